//! Tests of the filter compiler: lexer/parser tables, SQL shape, execution on a
//! real SQLite fixture (semantics pinned against PocketBase v0.40.6), sort, and
//! property tests.

mod client;
mod compile;
mod exec;
mod fixture;
mod parse;
mod props;
mod sort;
