//! `serde_json`'s pretty layout (two spaces an indent level) with a prefix
//! opening every line after the first: a value nested in a document written
//! by hand (the prefix its depth's indent), or a resource added or removed
//! whole, whose diff is its every line signed. Written as it is serialized,
//! without a second pass over the text.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

/// The formatter: [`serde_json::ser::PrettyFormatter`]'s output, `prefix`
/// after each of its line breaks.
struct Prefixed<'p> {
    prefix: &'p [u8],
    depth: usize,
    has_value: bool,
    /// Line breaks written.
    breaks: &'p mut usize,
}

impl Prefixed<'_> {
    fn new_line(&mut self, w: &mut (impl Write + ?Sized)) -> io::Result<()> {
        *self.breaks += 1;
        w.write_all(b"\n")?;
        w.write_all(self.prefix)?;
        (0..self.depth).try_for_each(|_| w.write_all(b"  "))
    }

    fn open(&mut self, w: &mut (impl Write + ?Sized), bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close(&mut self, w: &mut (impl Write + ?Sized), bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.new_line(w)?;
        }
        w.write_all(bracket)
    }

    fn item(&mut self, w: &mut (impl Write + ?Sized), first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.new_line(w)
    }
}

impl Formatter for Prefixed<'_> {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Write `value` pretty to `out`, `prefix` after every line break; returns
/// how many line breaks it wrote.
pub fn write(
    out: &mut (impl Write + ?Sized),
    prefix: &[u8],
    value: &impl Serialize,
) -> io::Result<usize> {
    let mut breaks = 0;
    let formatter = Prefixed {
        prefix,
        depth: 0,
        has_value: false,
        breaks: &mut breaks,
    };
    let mut ser = serde_json::Serializer::with_formatter(out, formatter);
    value.serialize(&mut ser).map_err(io::Error::from)?;
    Ok(breaks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lays_out_as_serde_json_pretty_with_the_prefix() {
        let value = json!({"a": [1, {"b": []}, {}], "c": {"d": "x\ny"}, "e": null});
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        for prefix in ["", "    ", "+"] {
            let mut out = Vec::new();
            let breaks = write(&mut out, prefix.as_bytes(), &value).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                pretty.replace('\n', &format!("\n{prefix}"))
            );
            assert_eq!(breaks, pretty.matches('\n').count());
        }
    }
}
