//! Which node of a cluster holds a room: the shard is the first character of the
//! room code, so a proxy that sees only the URL (`/r/{code}…`, `/ws/rooms/{code}`)
//! can route every request of a room to its node without asking anyone.
//!
//! A node started with `POKER_SHARD=n` (0–61) makes codes that begin with the
//! `n`-th base62 character (`0`–`9`, then `A`–`Z`, then `a`–`z`); the other 11
//! characters stay random (about 65 bits, still not guessable). A single node
//! has no shard and its codes are random throughout.
//!
//! ```
//! use poker::room::shard::Shard;
//! let shard = Shard::parse("11").unwrap();
//! assert_eq!(shard.mark(), 'B');
//! assert_eq!(Shard::of_code("Bx7Kq2mZpL0a"), Some(shard));
//! assert!(Shard::parse("62").is_err());
//! ```

use std::sync::OnceLock;

/// The characters of a room code, in the order that numbers the shards.
pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// How many shards a cluster can have: one per first character of a code.
pub const MAX_SHARDS: u8 = 62;

/// One shard of a cluster: the rooms whose codes begin with its mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shard(u8);

/// A `POKER_SHARD` value that names no shard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a shard is a whole number from 0 to 61")]
pub struct BadShard;

impl Shard {
    /// Reads a shard number (`"0"` to `"61"`).
    pub fn parse(text: &str) -> Result<Self, BadShard> {
        match text.trim().parse::<u8>() {
            Ok(n) if n < MAX_SHARDS => Ok(Self(n)),
            _ => Err(BadShard),
        }
    }

    /// The shard's number.
    pub fn number(self) -> u8 {
        self.0
    }

    /// The first character of every code of this shard.
    pub fn mark(self) -> char {
        char::from(BASE62[usize::from(self.0)])
    }

    /// The shard a code belongs to (by its first character), if it has one.
    pub fn of_code(code: &str) -> Option<Self> {
        let first = *code.as_bytes().first()?;
        BASE62
            .iter()
            .position(|&c| c == first)
            .and_then(|i| u8::try_from(i).ok())
            .map(Self)
    }
}

/// This process's shard, set once at start-up from the config.
static THIS_NODE: OnceLock<Shard> = OnceLock::new();

/// Makes this node the holder of `shard`: every room it creates from now on
/// carries the shard's mark. Later calls keep the first value (a process is
/// one node for its whole life).
pub fn set_this_node(shard: Shard) {
    let _ = THIS_NODE.set(shard);
}

/// The shard this node holds, if it runs in a cluster.
pub fn this_node() -> Option<Shard> {
    THIS_NODE.get().copied()
}

/// A new room code of `length` base62 characters, beginning with the shard's
/// mark when there is one.
pub fn new_code(shard: Option<Shard>, length: usize) -> String {
    match shard {
        None => litebase::id::random_string(length, BASE62),
        Some(shard) => {
            let mut code = String::with_capacity(length);
            code.push(shard.mark());
            code.push_str(&litebase::id::random_string(
                length.saturating_sub(1),
                BASE62,
            ));
            code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_shard_has_its_own_mark_and_back() {
        let marks: std::collections::BTreeSet<char> =
            (0..MAX_SHARDS).map(|n| Shard(n).mark()).collect();
        assert_eq!(marks.len(), usize::from(MAX_SHARDS));
        for n in 0..MAX_SHARDS {
            let shard = Shard(n);
            assert_eq!(Shard::parse(&n.to_string()), Ok(shard));
            assert_eq!(Shard::of_code(&shard.mark().to_string()), Some(shard));
        }
        assert_eq!(Shard(0).mark(), '0');
        assert_eq!(Shard(10).mark(), 'A');
        assert_eq!(Shard(36).mark(), 'a');
        assert_eq!(Shard(61).mark(), 'z');
    }

    #[test]
    fn bad_shards_and_codes() {
        for bad in ["", "-1", "62", "255", "1000", "a", "1.5", "0x1"] {
            assert_eq!(Shard::parse(bad), Err(BadShard), "{bad:?}");
        }
        assert_eq!(Shard::parse(" 7 "), Ok(Shard(7)));
        assert_eq!(Shard::of_code(""), None);
        assert_eq!(Shard::of_code("-abc"), None);
        assert_eq!(Shard::of_code("é"), None);
    }

    proptest! {
        #[test]
        fn a_shards_codes_route_back_to_it(n in 0..MAX_SHARDS, length in 1usize..40) {
            let code = new_code(Some(Shard(n)), length);
            prop_assert_eq!(code.len(), length);
            prop_assert_eq!(Shard::of_code(&code), Some(Shard(n)));
            prop_assert!(code.bytes().all(|b| BASE62.contains(&b)));
        }

        #[test]
        fn codes_without_a_shard_are_base62(length in 1usize..40) {
            let code = new_code(None, length);
            prop_assert_eq!(code.len(), length);
            prop_assert!(Shard::of_code(&code).is_some());
        }
    }
}
