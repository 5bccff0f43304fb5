//! Go's `text/tabwriter`, as istioctl's tables use it (padchar `' '`, flags 0).
//!
//! istioctl tables must match byte for byte, and Go aligns by counting runes,
//! keeps the padding of a terminated empty last cell (trailing spaces), and
//! aligns each column over runs of lines that have that column. This is a
//! rewrite of that algorithm for the subset istioctl uses: no escapes, no
//! form feeds, no `DiscardEmptyColumns`, no `Debug`, no tab padding.

/// The `(minwidth, padding)` pair a table is formatted with; Go's `tabwidth`
/// has no effect with a space padchar, so it is not a parameter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub minwidth: usize,
    pub padding: usize,
}

impl Params {
    pub const fn padding(padding: usize) -> Params {
        Params {
            minwidth: 0,
            padding,
        }
    }
}

/// One line split into cells: every cell but the last was ended by a tab.
struct Line<'a> {
    cells: Vec<&'a str>,
    /// Rune counts of `cells`.
    widths: Vec<usize>,
    /// Whether the line ended with `\n` (the input's last line may not).
    newline: bool,
}

/// Format `text` (cells separated by `\t`, lines ended by `\n`) the way a Go
/// tabwriter would after `Write(text)` and `Flush()`.
pub fn format(text: &str, params: Params) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let mut section: Vec<Line<'_>> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, newline, next) = match rest.find('\n') {
            Some(i) => (&rest[..i], true, &rest[i + 1..]),
            None => (rest, false, ""),
        };
        rest = next;
        let cells: Vec<&str> = line.split('\t').collect();
        let widths = cells.iter().map(|c| c.chars().count()).collect();
        let single = cells.len() == 1;
        section.push(Line {
            cells,
            widths,
            newline,
        });
        // A line without any tab closes the alignment section: Go flushes there.
        if single && newline {
            Formatter::new(params, &mut out).run(&section);
            section.clear();
        }
    }
    Formatter::new(params, &mut out).run(&section);
    out
}

struct Formatter<'o> {
    params: Params,
    out: &'o mut String,
    /// Widths of the enclosing column blocks, outermost first.
    widths: Vec<usize>,
}

impl<'o> Formatter<'o> {
    fn new(params: Params, out: &'o mut String) -> Formatter<'o> {
        Formatter {
            params,
            out,
            widths: Vec::new(),
        }
    }

    fn run(&mut self, lines: &[Line<'_>]) {
        self.block(lines, 0, lines.len());
    }

    /// Align column `self.widths.len()` over `lines[start..end]`, recursing
    /// into each run of lines that has a terminated cell in that column.
    fn block(&mut self, lines: &[Line<'_>], start: usize, end: usize) {
        let column = self.widths.len();
        let mut written = start;
        let mut this = start;
        while this < end {
            if column + 1 >= lines[this].cells.len() {
                this += 1;
                continue;
            }
            self.write_lines(&lines[written..this]);
            let block_start = this;
            let mut width = self.params.minwidth;
            while this < end && column + 1 < lines[this].cells.len() {
                width = width.max(lines[this].widths[column] + self.params.padding);
                this += 1;
            }
            self.widths.push(width);
            self.block(lines, block_start, this);
            self.widths.pop();
            written = this;
        }
        self.write_lines(&lines[written..end]);
    }

    fn write_lines(&mut self, lines: &[Line<'_>]) {
        for line in lines {
            for (j, cell) in line.cells.iter().enumerate() {
                self.out.push_str(cell);
                if let Some(&w) = self.widths.get(j)
                    && j + 1 < line.cells.len()
                {
                    let pad = w.saturating_sub(line.widths[j]);
                    self.out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            if line.newline {
                self.out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_terminated_empty_last_cell() {
        let got = format("A\tB\t\nlong cell\tx\t\n", Params::padding(1));
        assert_eq!(got, "A         B \nlong cell x \n");
    }

    #[test]
    fn counts_runes() {
        let got = format("名前\tx\nab\ty\n", Params::padding(1));
        assert_eq!(got, "名前 x\nab y\n");
    }

    /// Go's own outputs, from ../shared/conformance/tabwriter.
    #[test]
    fn matches_go_goldens() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/conformance/tabwriter/tabwriter-go-goldens.json"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} is missing (../shared is not checked out)");
            return;
        };
        let doc: serde_json::Value = serde_json::from_str(&text).expect("goldens parse");
        let cases = doc["cases"].as_array().expect("cases");
        let mut failures = Vec::new();
        for case in cases {
            let name = case["name"].as_str().expect("name");
            let padding = case["padding"].as_u64().expect("padding") as usize;
            let input = case["input"].as_str().expect("input");
            let want = case["go_output"].as_str().expect("go_output");
            let got = format(input, Params::padding(padding));
            if got != want {
                failures.push(format!(
                    "{name} (padding {padding}):\n{got:?}\n!=\n{want:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(cases.len(), 36);
    }
}
