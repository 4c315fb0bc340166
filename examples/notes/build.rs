fn main() {
    // `embed_migrations!` reads the folder at compile time: a new migration file
    // must rebuild the binary.
    println!("cargo:rerun-if-changed=migrations");
}
