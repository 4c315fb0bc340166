//! todo

#[test]
fn peek() {
    for f in [
        "editors.name = \"bob\"",
        "@collection.comments:c.post ?= id && @collection.comments:c.message ?= \"meh\"",
        "comments_via_post.message = \"great\"",
    ] {
        let s = super::fixture::compile(f).unwrap();
        println!("{f}\n  {}\n  {:?}", s.sql, s.params);
    }
}
