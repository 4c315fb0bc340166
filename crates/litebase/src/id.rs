//! Random identifiers in PocketBase's format.

/// The alphabet of record ids: PocketBase uses 15 characters of `[a-z0-9]`.
pub const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Length of a generated record id.
pub const ID_LENGTH: usize = 15;

/// A new record id, e.g. `8tdws0omht9ljya`.
pub fn new_id() -> String {
    random_string(ID_LENGTH, ID_ALPHABET)
}

/// `len` characters drawn uniformly from `alphabet` with the OS's secure RNG, for ids,
/// token keys and secrets.
///
/// # Panics
/// If `alphabet` is empty or longer than 256, or the OS has no random source (the
/// process cannot run safely without one).
pub fn random_string(len: usize, alphabet: &[u8]) -> String {
    assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut buf).expect("the OS random number generator failed");
        for &b in &buf {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// Whether `id` is acceptable as a client-supplied record id (PocketBase's default
/// pattern `^[a-z0-9]+$`, 15 characters).
pub fn is_valid_id(id: &str) -> bool {
    id.len() == ID_LENGTH && id.bytes().all(|b| ID_ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| is_valid_id(id)));
    }

    #[test]
    fn every_character_of_the_alphabet_turns_up() {
        let s = random_string(5000, ID_ALPHABET);
        for &c in ID_ALPHABET {
            assert!(s.as_bytes().contains(&c), "{} missing", c as char);
        }
    }

    #[test]
    fn validates_client_ids() {
        assert!(is_valid_id("abcdefghij12345"));
        assert!(!is_valid_id("ABCDEFGHIJ12345"));
        assert!(!is_valid_id("short"));
        assert!(!is_valid_id("abcdefghij1234_"));
    }
}
