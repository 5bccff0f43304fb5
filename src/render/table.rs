//! meshsim's own tables (not istioctl's): kubectl-like columns, no borders.

use comfy_table::{Table, presets};

/// A borderless table with the given header.
pub fn plain(header: Vec<&str>) -> Table {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.set_header(header);
    table
}

/// The table as text: columns two spaces apart, no trailing blanks, a final
/// newline.
pub fn finish(mut table: Table) -> String {
    let columns = table.column_count();
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, if i + 1 == columns { 0 } else { 2 }));
    }
    let mut out: String = table
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}
