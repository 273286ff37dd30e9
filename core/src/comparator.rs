//! The 36 user-condition comparators of config JSON v6, and the two segment and
//! prerequisite comparators.

use core::fmt;

/// Operator of a user condition (`c` in config JSON; the discriminant is the wire code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
#[expect(
    missing_docs,
    reason = "each variant's name is its meaning; `text()` gives the dashboard wording"
)]
pub enum UserComparator {
    IsOneOf = 0,
    IsNotOneOf = 1,
    ContainsAnyOf = 2,
    NotContainsAnyOf = 3,
    SemverIsOneOf = 4,
    SemverIsNotOneOf = 5,
    SemverLess = 6,
    SemverLessOrEqual = 7,
    SemverGreater = 8,
    SemverGreaterOrEqual = 9,
    NumberEquals = 10,
    NumberNotEquals = 11,
    NumberLess = 12,
    NumberLessOrEqual = 13,
    NumberGreater = 14,
    NumberGreaterOrEqual = 15,
    SensitiveIsOneOf = 16,
    SensitiveIsNotOneOf = 17,
    DateBefore = 18,
    DateAfter = 19,
    SensitiveEquals = 20,
    SensitiveNotEquals = 21,
    SensitiveStartsWithAnyOf = 22,
    SensitiveNotStartsWithAnyOf = 23,
    SensitiveEndsWithAnyOf = 24,
    SensitiveNotEndsWithAnyOf = 25,
    SensitiveArrayContainsAnyOf = 26,
    SensitiveArrayNotContainsAnyOf = 27,
    Equals = 28,
    NotEquals = 29,
    StartsWithAnyOf = 30,
    NotStartsWithAnyOf = 31,
    EndsWithAnyOf = 32,
    NotEndsWithAnyOf = 33,
    ArrayContainsAnyOf = 34,
    ArrayNotContainsAnyOf = 35,
}

/// What kind of comparison value a comparator takes, and how it reads the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ComparatorKind {
    /// `s`: one text, compared with the attribute as text.
    Text,
    /// `l`: a text list, compared with the attribute as text.
    TextList,
    /// `l`: a list of `<byte length>_<sha256>` items.
    HashedAffixList,
    /// `l`: a list of versions.
    SemverList,
    /// `s`: one version.
    Semver,
    /// `d`: a number.
    Number,
    /// `d`: Unix seconds.
    Date,
    /// `l`: compared with the attribute as a string list.
    ArrayList,
}

const ALL: [UserComparator; 36] = {
    use UserComparator as C;
    [
        C::IsOneOf,
        C::IsNotOneOf,
        C::ContainsAnyOf,
        C::NotContainsAnyOf,
        C::SemverIsOneOf,
        C::SemverIsNotOneOf,
        C::SemverLess,
        C::SemverLessOrEqual,
        C::SemverGreater,
        C::SemverGreaterOrEqual,
        C::NumberEquals,
        C::NumberNotEquals,
        C::NumberLess,
        C::NumberLessOrEqual,
        C::NumberGreater,
        C::NumberGreaterOrEqual,
        C::SensitiveIsOneOf,
        C::SensitiveIsNotOneOf,
        C::DateBefore,
        C::DateAfter,
        C::SensitiveEquals,
        C::SensitiveNotEquals,
        C::SensitiveStartsWithAnyOf,
        C::SensitiveNotStartsWithAnyOf,
        C::SensitiveEndsWithAnyOf,
        C::SensitiveNotEndsWithAnyOf,
        C::SensitiveArrayContainsAnyOf,
        C::SensitiveArrayNotContainsAnyOf,
        C::Equals,
        C::NotEquals,
        C::StartsWithAnyOf,
        C::NotStartsWithAnyOf,
        C::EndsWithAnyOf,
        C::NotEndsWithAnyOf,
        C::ArrayContainsAnyOf,
        C::ArrayNotContainsAnyOf,
    ]
};

impl UserComparator {
    /// The comparator with this wire code, if it exists.
    #[must_use]
    pub fn from_code(code: i64) -> Option<Self> {
        usize::try_from(code)
            .ok()
            .and_then(|index| ALL.get(index).copied())
    }

    /// The wire code (`c` in config JSON).
    #[must_use]
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The operator as the dashboard and the evaluation log write it, e.g. `IS ONE OF`.
    #[must_use]
    pub const fn text(self) -> &'static str {
        use UserComparator as C;
        match self {
            C::IsOneOf | C::SemverIsOneOf | C::SensitiveIsOneOf => "IS ONE OF",
            C::IsNotOneOf | C::SemverIsNotOneOf | C::SensitiveIsNotOneOf => "IS NOT ONE OF",
            C::ContainsAnyOf => "CONTAINS ANY OF",
            C::NotContainsAnyOf => "NOT CONTAINS ANY OF",
            C::SemverLess | C::NumberLess => "<",
            C::SemverLessOrEqual | C::NumberLessOrEqual => "<=",
            C::SemverGreater | C::NumberGreater => ">",
            C::SemverGreaterOrEqual | C::NumberGreaterOrEqual => ">=",
            C::NumberEquals => "=",
            C::NumberNotEquals => "!=",
            C::DateBefore => "BEFORE",
            C::DateAfter => "AFTER",
            C::SensitiveEquals | C::Equals => "EQUALS",
            C::SensitiveNotEquals | C::NotEquals => "NOT EQUALS",
            C::SensitiveStartsWithAnyOf | C::StartsWithAnyOf => "STARTS WITH ANY OF",
            C::SensitiveNotStartsWithAnyOf | C::NotStartsWithAnyOf => "NOT STARTS WITH ANY OF",
            C::SensitiveEndsWithAnyOf | C::EndsWithAnyOf => "ENDS WITH ANY OF",
            C::SensitiveNotEndsWithAnyOf | C::NotEndsWithAnyOf => "NOT ENDS WITH ANY OF",
            C::SensitiveArrayContainsAnyOf | C::ArrayContainsAnyOf => "ARRAY CONTAINS ANY OF",
            C::SensitiveArrayNotContainsAnyOf | C::ArrayNotContainsAnyOf => {
                "ARRAY NOT CONTAINS ANY OF"
            }
        }
    }

    /// Whether comparison values are SHA-256 hashes (confidential comparators).
    #[must_use]
    pub const fn is_sensitive(self) -> bool {
        use UserComparator as C;
        matches!(
            self,
            C::SensitiveIsOneOf
                | C::SensitiveIsNotOneOf
                | C::SensitiveEquals
                | C::SensitiveNotEquals
                | C::SensitiveStartsWithAnyOf
                | C::SensitiveNotStartsWithAnyOf
                | C::SensitiveEndsWithAnyOf
                | C::SensitiveNotEndsWithAnyOf
                | C::SensitiveArrayContainsAnyOf
                | C::SensitiveArrayNotContainsAnyOf
        )
    }

    /// Whether the comparator is the negation of its positive form (`NOT ...`, `!=`).
    #[must_use]
    pub const fn is_negated(self) -> bool {
        use UserComparator as C;
        matches!(
            self,
            C::IsNotOneOf
                | C::NotContainsAnyOf
                | C::SemverIsNotOneOf
                | C::NumberNotEquals
                | C::SensitiveIsNotOneOf
                | C::SensitiveNotEquals
                | C::SensitiveNotStartsWithAnyOf
                | C::SensitiveNotEndsWithAnyOf
                | C::SensitiveArrayNotContainsAnyOf
                | C::NotEquals
                | C::NotStartsWithAnyOf
                | C::NotEndsWithAnyOf
                | C::ArrayNotContainsAnyOf
        )
    }

    pub(crate) const fn kind(self) -> ComparatorKind {
        use UserComparator as C;
        match self {
            C::Equals | C::NotEquals | C::SensitiveEquals | C::SensitiveNotEquals => {
                ComparatorKind::Text
            }
            C::IsOneOf
            | C::IsNotOneOf
            | C::ContainsAnyOf
            | C::NotContainsAnyOf
            | C::SensitiveIsOneOf
            | C::SensitiveIsNotOneOf
            | C::StartsWithAnyOf
            | C::NotStartsWithAnyOf
            | C::EndsWithAnyOf
            | C::NotEndsWithAnyOf => ComparatorKind::TextList,
            C::SensitiveStartsWithAnyOf
            | C::SensitiveNotStartsWithAnyOf
            | C::SensitiveEndsWithAnyOf
            | C::SensitiveNotEndsWithAnyOf => ComparatorKind::HashedAffixList,
            C::SemverIsOneOf | C::SemverIsNotOneOf => ComparatorKind::SemverList,
            C::SemverLess | C::SemverLessOrEqual | C::SemverGreater | C::SemverGreaterOrEqual => {
                ComparatorKind::Semver
            }
            C::NumberEquals
            | C::NumberNotEquals
            | C::NumberLess
            | C::NumberLessOrEqual
            | C::NumberGreater
            | C::NumberGreaterOrEqual => ComparatorKind::Number,
            C::DateBefore | C::DateAfter => ComparatorKind::Date,
            C::SensitiveArrayContainsAnyOf
            | C::SensitiveArrayNotContainsAnyOf
            | C::ArrayContainsAnyOf
            | C::ArrayNotContainsAnyOf => ComparatorKind::ArrayList,
        }
    }
}

impl fmt::Display for UserComparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// Operator of a segment condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentComparator {
    /// The user must satisfy every condition of the segment.
    IsIn,
    /// The user must fail at least one condition of the segment.
    IsNotIn,
}

impl SegmentComparator {
    pub(crate) const fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::IsIn),
            1 => Some(Self::IsNotIn),
            _ => None,
        }
    }

    /// `IS IN SEGMENT` or `IS NOT IN SEGMENT`.
    #[must_use]
    pub const fn text(self) -> &'static str {
        match self {
            Self::IsIn => "IS IN SEGMENT",
            Self::IsNotIn => "IS NOT IN SEGMENT",
        }
    }
}

/// Operator of a prerequisite flag condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrerequisiteComparator {
    /// The prerequisite's value must equal the comparison value.
    Equals,
    /// The prerequisite's value must differ from the comparison value.
    NotEquals,
}

impl PrerequisiteComparator {
    pub(crate) const fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Equals),
            1 => Some(Self::NotEquals),
            _ => None,
        }
    }

    /// `EQUALS` or `NOT EQUALS`.
    #[must_use]
    pub const fn text(self) -> &'static str {
        match self {
            Self::Equals => "EQUALS",
            Self::NotEquals => "NOT EQUALS",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in 0..36 {
            let comparator = UserComparator::from_code(code).unwrap();
            assert_eq!(i64::from(comparator.code()), code);
        }
        assert_eq!(UserComparator::from_code(36), None);
        assert_eq!(UserComparator::from_code(-1), None);
        assert_eq!(UserComparator::from_code(i64::MAX), None);
    }

    #[test]
    fn sensitive_comparators_are_the_ten_hashed_ones() {
        let sensitive = (0..36)
            .filter_map(UserComparator::from_code)
            .filter(|c| c.is_sensitive())
            .count();
        assert_eq!(sensitive, 10);
        assert_eq!(UserComparator::SensitiveEquals.text(), "EQUALS");
        assert_eq!(UserComparator::NumberNotEquals.text(), "!=");
    }
}
