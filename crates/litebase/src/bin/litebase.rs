//! litebase alone, like `pocketbase serve`: the framework's collections, records,
//! auth, realtime and admin UI with no app of its own on top. The framework's
//! integration tests drive this binary; anyone who wants a plain backend can run it.

fn main() -> std::process::ExitCode {
    litebase::App::new("litebase")
        .version(env!("CARGO_PKG_VERSION"))
        .run()
}
