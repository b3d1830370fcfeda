//! `sqlx::migrate!` embeds the platform migrations at build time but only notices edits to the
//! files it read; watching the folder makes an added or removed migration rebuild the crate too.

use std::io::{self, Write as _};

fn main() -> io::Result<()> {
    io::stdout().write_all(b"cargo::rerun-if-changed=migrations\n")
}
