//! A client's filter and sort reaching other collections (relation paths,
//! back-relations, `@collection.*`) against the non-interference check of
//! `litebase::query::leak_check`: for a guest, Alice and Bob, whatever compiles
//! must run, and must answer the same on databases that differ only in what that
//! requester may not see (hidden fields, rows other collections' list rules hide).
//! A difference is a way around a rule and crashes the target.
//!
//! The input is split at its first newline: a filter, then a sort.
//!
//! Run (stable toolchain):
//! `cd crates/litebase/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run rules corpus/rules seeds/rules -- -dict=rules.dict -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;
use litebase::query::leak_check::{LeakCheck, Requester};

thread_local! {
    /// The databases, built once per process; each run only queries them.
    static CHECK: LeakCheck = LeakCheck::new().expect("in-memory databases");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (filter, sort) = text.split_once('\n').unwrap_or((text, ""));
    CHECK.with(|check| {
        for who in Requester::ALL {
            if let Err(leak) = check.check_filter(filter, who) {
                panic!("{leak}");
            }
            if !sort.is_empty() {
                if let Err(leak) = check.check_sort(sort, who) {
                    panic!("{leak}");
                }
            }
        }
    });
});
