//! What a read's default may be, and the type the read returns for it.

use configcat_core::FlagValue;

/// A default value for [`Client::get_value`](crate::Client::get_value) and
/// [`Client::get_value_details`](crate::Client::get_value_details): `bool`,
/// `i64`, `f64`, `String` or `&str`.
///
/// The default's type picks the type the setting is read as, and
/// [`FlagDefault::Output`] is what the read returns: the default's own type,
/// and `String` for a `&str` default (the value outlives the config it was
/// read from). Implemented for these five types only (sealed).
///
/// ```
/// use configcat_std::{Client, ClientOptions, FlagOverrides, OverrideBehaviour};
///
/// let overrides = FlagOverrides::from_map([("greeting", "Szia".into())], OverrideBehaviour::LocalOnly);
/// let client = Client::get(
///     "configcat-sdk-1/DOCTEST-FLAG-DEFAULT-01/1234567890123456789012",
///     ClientOptions::default().with_flag_overrides(overrides),
/// )?;
/// let greeting: String = client.get_value("greeting", "hello", None);
/// assert_eq!(greeting, "Szia");
/// let owned: String = client.get_value("greeting", String::from("hello"), None);
/// assert_eq!(owned, "Szia");
/// client.close();
/// # Ok::<(), configcat_std::ClientError>(())
/// ```
pub trait FlagDefault: sealed::Sealed + Default {
    /// What a read with this default returns.
    type Output: for<'a> FlagValue<'a>;
    /// The type the core reads the setting as, for as long as `'a` lends
    /// the config and the default.
    #[doc(hidden)]
    type Read<'a>: FlagValue<'a>
    where
        Self: 'a;
    /// The default, as the core reads it.
    #[doc(hidden)]
    fn lend<'a>(self) -> Self::Read<'a>
    where
        Self: 'a;
    /// The value read (or the default), as the read returns it.
    #[doc(hidden)]
    fn finish(read: Self::Read<'_>) -> Self::Output;
}

/// Types that read as themselves: the default is the read.
macro_rules! read_as_itself {
    ($($ty:ty),*) => {$(
        impl FlagDefault for $ty {
            type Output = Self;
            type Read<'a> = Self;
            #[inline(always)]
            fn lend<'a>(self) -> Self
            where
                Self: 'a,
            {
                self
            }
            #[inline(always)]
            fn finish(read: Self) -> Self {
                read
            }
        }
        impl sealed::Sealed for $ty {}
    )*};
}

read_as_itself!(bool, i64, f64, String);

/// A text default is read without copying it; only the value returned is
/// copied out of the config.
impl FlagDefault for &str {
    type Output = String;
    type Read<'a>
        = &'a str
    where
        Self: 'a;
    #[inline(always)]
    fn lend<'a>(self) -> &'a str
    where
        Self: 'a,
    {
        self
    }
    #[inline]
    fn finish(read: &str) -> String {
        read.to_owned()
    }
}
impl sealed::Sealed for &str {}

mod sealed {
    /// Keeps [`super::FlagDefault`] to the types this crate implements it
    /// for: public in a private module, so no other crate can name it.
    pub trait Sealed {}
}
