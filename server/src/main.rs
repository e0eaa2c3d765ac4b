//! The grove server.

fn main() {}
