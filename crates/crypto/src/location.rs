//! Where a sealed value is stored, bound into its ciphertext.

/// Which stored value a ciphertext belongs to.
///
/// It is bound into the ciphertext as associated data, so a value copied into another row, column
/// or table fails to open instead of silently becoming someone else's secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretLocation<'a> {
    /// The table, e.g. `registries`.
    pub table: &'a str,
    /// The column, e.g. `password`.
    pub column: &'a str,
    /// The row's id.
    pub row: i64,
}

/// Separates our associated data from any other use of the same key, and names the format so a
/// later encoding cannot collide with this one.
const CONTEXT: &[u8] = b"docker-watcher secret location v1";

impl SecretLocation<'_> {
    /// The associated data: the context, then each part prefixed with its length, so no two
    /// locations encode the same (`("a_b", "c")` and `("a", "b_c")` differ).
    pub(crate) fn associated_data(&self) -> Vec<u8> {
        let mut data =
            Vec::with_capacity(CONTEXT.len() + 3 * 8 + self.table.len() + self.column.len());
        for part in [CONTEXT, self.table.as_bytes(), self.column.as_bytes()] {
            data.extend_from_slice(&(part.len() as u64).to_be_bytes());
            data.extend_from_slice(part);
        }
        data.extend_from_slice(&self.row.to_be_bytes());
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aad(table: &str, column: &str, row: i64) -> Vec<u8> {
        SecretLocation { table, column, row }.associated_data()
    }

    #[test]
    fn shifting_text_between_parts_changes_the_encoding() {
        assert_ne!(aad("a_b", "c", 1), aad("a", "b_c", 1));
        assert_ne!(aad("ab", "", 1), aad("a", "b", 1));
        assert_ne!(aad("", "ab", 1), aad("a", "b", 1));
    }

    #[test]
    fn every_part_counts() {
        let base = aad("registries", "password", 7);
        assert_eq!(base, aad("registries", "password", 7));
        assert_ne!(base, aad("registries", "password", 8));
        assert_ne!(base, aad("registries", "token", 7));
        assert_ne!(base, aad("projects", "password", 7));
        assert_ne!(aad("t", "c", -1), aad("t", "c", 1));
    }
}
