//! A config cache in Redis, shared by every process (and every ConfigCat SDK,
//! in any language) that uses the same Redis and SDK key.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::cache::{CacheError, ConfigCache};

/// Default timeout for connecting to Redis (TCP connect and handshake).
pub const DEFAULT_REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Default timeout for one Redis command's response.
pub const DEFAULT_REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// A [`ConfigCache`] in Redis (feature `redis`).
///
/// It stores the client's one entry with `SET <key> <payload>` and reads it
/// with `GET <key>`, under the key and in the format of ConfigCat's other SDKs
/// (see [`ConfigCache`]), so an instance of this client, of ConfigCat's Python
/// SDK or of any other SDK with a Redis cache that does the same can share one
/// entry: one online client keeps it current, and every other client reads it.
///
/// The connection is opened on first use and kept; after a failure it is
/// dropped and the next call connects again, so the cache recovers by itself
/// when Redis comes back. A command on a kept connection that fails (Redis was
/// restarted in between) is retried once on a fresh connection. While Redis is
/// unreachable, every call fails within the connect timeout and the client
/// logs it (2200 on read, 2201 on write) and keeps serving the config it has
/// in memory. Calls through one `RedisCache` are serialized on its connection;
/// the client makes one cache call per refresh, never one per flag read.
///
/// ```no_run
/// use configcat_std::{Client, ClientOptions, RedisCache};
/// use std::sync::Arc;
///
/// let cache = RedisCache::new("redis://127.0.0.1:6379/0")?;
/// let options = ClientOptions::default().with_cache(Arc::new(cache));
/// let client = Client::get("configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX", options)?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub struct RedisCache {
    client: redis::Client,
    connection: Mutex<Option<redis::Connection>>,
    connect_timeout: Duration,
    response_timeout: Duration,
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address only: the url may carry a password.
        f.debug_struct("RedisCache")
            .field("address", &self.address())
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// A cache in the Redis at `url`: `redis://[[user]:password@]host[:port][/db]`
    /// (or `redis+unix:///path`). Nothing is connected yet, so this succeeds
    /// while Redis is down.
    ///
    /// # Errors
    /// The url is not a valid Redis url.
    pub fn new(url: &str) -> Result<Self, CacheError> {
        let client = redis::Client::open(url)?;
        Ok(Self::from_client(client))
    }

    /// A cache using an already configured `redis::Client`.
    #[must_use]
    pub const fn from_client(client: redis::Client) -> Self {
        Self {
            client,
            connection: Mutex::new(None),
            connect_timeout: DEFAULT_REDIS_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_REDIS_RESPONSE_TIMEOUT,
        }
    }

    /// Sets how long connecting (TCP connect and the Redis handshake) may
    /// take; default [`DEFAULT_REDIS_CONNECT_TIMEOUT`].
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = non_zero(timeout);
        self
    }

    /// Sets how long sending a command and waiting for its response may take;
    /// default [`DEFAULT_REDIS_RESPONSE_TIMEOUT`].
    #[must_use]
    pub fn with_response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = non_zero(timeout);
        self
    }

    /// The Redis address (`host:port` or a socket path), without credentials.
    #[must_use]
    pub fn address(&self) -> String {
        self.client.get_connection_info().addr().to_string()
    }

    fn connect(&self) -> Result<redis::Connection, CacheError> {
        let connection = self
            .client
            .get_connection_with_timeout(self.connect_timeout)
            .map_err(|error| self.error("cannot connect to", &error))?;
        connection
            .set_read_timeout(Some(self.response_timeout))
            .and_then(|()| connection.set_write_timeout(Some(self.response_timeout)))
            .map_err(|error| self.error("cannot set timeouts for", &error))?;
        Ok(connection)
    }

    /// Runs `command` on the kept connection (connecting first if there is
    /// none); a failure on a kept connection is retried once on a new one.
    fn run<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, CacheError> {
        let mut slot = self.lock();
        let reused = slot.is_some();
        for attempt in 0..2 {
            let mut connection = match slot.take() {
                Some(connection) => connection,
                None => self.connect()?,
            };
            match command.query::<T>(&mut connection) {
                Ok(value) => {
                    *slot = Some(connection);
                    return Ok(value);
                }
                // The server answered with an error: the connection is fine.
                Err(error) if !is_connection_error(&error) => {
                    *slot = Some(connection);
                    return Err(self.error("command failed on", &error));
                }
                // A connection kept from an earlier call may have died since
                // (Redis restarted): try once more on a new one.
                Err(_) if reused && attempt == 0 => {}
                Err(error) => return Err(self.error("lost the connection to", &error)),
            }
        }
        Err(format!("Redis at {}: giving up after a retry", self.address()).into())
    }

    fn lock(&self) -> MutexGuard<'_, Option<redis::Connection>> {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn error(&self, what: &str, error: &redis::RedisError) -> CacheError {
        format!("Redis cache: {what} {}: {error}", self.address()).into()
    }
}

/// Whether an error means the connection is unusable (as opposed to an error
/// reply from a working server).
fn is_connection_error(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
}

/// A zero timeout means "block forever" to the socket API; use 1 ms instead.
fn non_zero(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(1))
}

impl ConfigCache for RedisCache {
    fn read(&self, key: &str) -> Result<Option<String>, CacheError> {
        self.run(redis::cmd("GET").arg(key))
    }

    fn write(&self, key: &str, payload: &str) -> Result<(), CacheError> {
        self.run(redis::cmd("SET").arg(key).arg(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_url_is_rejected_and_a_valid_one_needs_no_server() {
        assert!(RedisCache::new("http://not-redis").is_err());
        // Port 1 on loopback: nothing listens there.
        let cache = RedisCache::new("redis://:secret@127.0.0.1:1/3").expect("valid url");
        assert_eq!(cache.address(), "127.0.0.1:1");
        let shown = format!("{cache:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn an_unreachable_server_is_an_error_not_a_panic() {
        let cache = RedisCache::new("redis://127.0.0.1:1")
            .expect("valid url")
            .with_connect_timeout(Duration::from_millis(200));
        let error = cache.read("key").expect_err("nothing listens on port 1");
        assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
        assert!(cache.write("key", "payload").is_err());
    }
}
