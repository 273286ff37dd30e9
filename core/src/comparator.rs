//! The 36 user-condition comparators of config JSON v6, and the two segment and
//! prerequisite comparators.

use core::fmt;

/// Operator of a user condition (`c` in config JSON; the discriminant is the wire code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub(crate) enum UserComparator {
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
    pub(crate) fn from_code(code: i64) -> Option<Self> {
        usize::try_from(code)
            .ok()
            .and_then(|index| ALL.get(index).copied())
    }

    /// The wire code (`c` in config JSON).
    #[cfg(test)]
    #[must_use]
    pub(crate) const fn code(self) -> u8 {
        self as u8
    }

    /// The operator as the dashboard and the evaluation log write it, e.g. `IS ONE OF`.
    #[must_use]
    pub(crate) const fn text(self) -> &'static str {
        match self {
            Self::IsOneOf | Self::SemverIsOneOf | Self::SensitiveIsOneOf => "IS ONE OF",
            Self::IsNotOneOf | Self::SemverIsNotOneOf | Self::SensitiveIsNotOneOf => {
                "IS NOT ONE OF"
            }
            Self::ContainsAnyOf => "CONTAINS ANY OF",
            Self::NotContainsAnyOf => "NOT CONTAINS ANY OF",
            Self::SemverLess | Self::NumberLess => "<",
            Self::SemverLessOrEqual | Self::NumberLessOrEqual => "<=",
            Self::SemverGreater | Self::NumberGreater => ">",
            Self::SemverGreaterOrEqual | Self::NumberGreaterOrEqual => ">=",
            Self::NumberEquals => "=",
            Self::NumberNotEquals => "!=",
            Self::DateBefore => "BEFORE",
            Self::DateAfter => "AFTER",
            Self::SensitiveEquals | Self::Equals => "EQUALS",
            Self::SensitiveNotEquals | Self::NotEquals => "NOT EQUALS",
            Self::SensitiveStartsWithAnyOf | Self::StartsWithAnyOf => "STARTS WITH ANY OF",
            Self::SensitiveNotStartsWithAnyOf | Self::NotStartsWithAnyOf => {
                "NOT STARTS WITH ANY OF"
            }
            Self::SensitiveEndsWithAnyOf | Self::EndsWithAnyOf => "ENDS WITH ANY OF",
            Self::SensitiveNotEndsWithAnyOf | Self::NotEndsWithAnyOf => "NOT ENDS WITH ANY OF",
            Self::SensitiveArrayContainsAnyOf | Self::ArrayContainsAnyOf => "ARRAY CONTAINS ANY OF",
            Self::SensitiveArrayNotContainsAnyOf | Self::ArrayNotContainsAnyOf => {
                "ARRAY NOT CONTAINS ANY OF"
            }
        }
    }

    /// Whether comparison values are SHA-256 hashes (confidential comparators).
    #[must_use]
    pub(crate) const fn is_sensitive(self) -> bool {
        matches!(
            self,
            Self::SensitiveIsOneOf
                | Self::SensitiveIsNotOneOf
                | Self::SensitiveEquals
                | Self::SensitiveNotEquals
                | Self::SensitiveStartsWithAnyOf
                | Self::SensitiveNotStartsWithAnyOf
                | Self::SensitiveEndsWithAnyOf
                | Self::SensitiveNotEndsWithAnyOf
                | Self::SensitiveArrayContainsAnyOf
                | Self::SensitiveArrayNotContainsAnyOf
        )
    }

    /// Whether the comparator is the negation of its positive form (`NOT ...`, `!=`).
    #[must_use]
    pub(crate) const fn is_negated(self) -> bool {
        matches!(
            self,
            Self::IsNotOneOf
                | Self::NotContainsAnyOf
                | Self::SemverIsNotOneOf
                | Self::NumberNotEquals
                | Self::SensitiveIsNotOneOf
                | Self::SensitiveNotEquals
                | Self::SensitiveNotStartsWithAnyOf
                | Self::SensitiveNotEndsWithAnyOf
                | Self::SensitiveArrayNotContainsAnyOf
                | Self::NotEquals
                | Self::NotStartsWithAnyOf
                | Self::NotEndsWithAnyOf
                | Self::ArrayNotContainsAnyOf
        )
    }

    pub(crate) const fn kind(self) -> ComparatorKind {
        match self {
            Self::Equals | Self::NotEquals | Self::SensitiveEquals | Self::SensitiveNotEquals => {
                ComparatorKind::Text
            }
            Self::IsOneOf
            | Self::IsNotOneOf
            | Self::ContainsAnyOf
            | Self::NotContainsAnyOf
            | Self::SensitiveIsOneOf
            | Self::SensitiveIsNotOneOf
            | Self::StartsWithAnyOf
            | Self::NotStartsWithAnyOf
            | Self::EndsWithAnyOf
            | Self::NotEndsWithAnyOf => ComparatorKind::TextList,
            Self::SensitiveStartsWithAnyOf
            | Self::SensitiveNotStartsWithAnyOf
            | Self::SensitiveEndsWithAnyOf
            | Self::SensitiveNotEndsWithAnyOf => ComparatorKind::HashedAffixList,
            Self::SemverIsOneOf | Self::SemverIsNotOneOf => ComparatorKind::SemverList,
            Self::SemverLess
            | Self::SemverLessOrEqual
            | Self::SemverGreater
            | Self::SemverGreaterOrEqual => ComparatorKind::Semver,
            Self::NumberEquals
            | Self::NumberNotEquals
            | Self::NumberLess
            | Self::NumberLessOrEqual
            | Self::NumberGreater
            | Self::NumberGreaterOrEqual => ComparatorKind::Number,
            Self::DateBefore | Self::DateAfter => ComparatorKind::Date,
            Self::SensitiveArrayContainsAnyOf
            | Self::SensitiveArrayNotContainsAnyOf
            | Self::ArrayContainsAnyOf
            | Self::ArrayNotContainsAnyOf => ComparatorKind::ArrayList,
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
pub(crate) enum SegmentComparator {
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
    pub(crate) const fn text(self) -> &'static str {
        match self {
            Self::IsIn => "IS IN SEGMENT",
            Self::IsNotIn => "IS NOT IN SEGMENT",
        }
    }
}

/// Operator of a prerequisite flag condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PrerequisiteComparator {
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
    pub(crate) const fn text(self) -> &'static str {
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
