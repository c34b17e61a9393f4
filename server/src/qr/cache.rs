//! A small bounded cache of rendered QR images. A payment's payload never changes, so an image is
//! keyed by the payment id and what was asked (format, size, mode, width) and never goes stale;
//! the least recently used entry makes room when the cache is full.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;

/// What was rendered for a payment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Variant {
    Png {
        size: u32,
        mono: bool,
    },
    Svg {
        size: u32,
    },
    Escpos {
        native: bool,
        width: u32,
        text: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    payment_id: String,
    variant: Variant,
}

struct Entry {
    bytes: Bytes,
    used: u64,
}

struct Inner {
    entries: HashMap<Key, Entry>,
    clock: u64,
    hits: u64,
    misses: u64,
}

pub struct QrCache {
    capacity: usize,
    max_entry_bytes: usize,
    inner: Mutex<Inner>,
}

impl QrCache {
    /// At most `capacity` images, each at most `max_entry_bytes` (bigger ones are not kept).
    pub fn new(capacity: usize, max_entry_bytes: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            max_entry_bytes,
            inner: Mutex::new(Inner {
                entries: HashMap::with_capacity(capacity),
                clock: 0,
                hits: 0,
                misses: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent (every change is one
        // call), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, payment_id: &str, variant: &Variant) -> Option<Bytes> {
        let key = Key {
            payment_id: payment_id.to_owned(),
            variant: variant.clone(),
        };
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        match inner.entries.get_mut(&key) {
            Some(e) => {
                e.used = now;
                let bytes = e.bytes.clone();
                inner.hits += 1;
                Some(bytes)
            }
            None => {
                inner.misses += 1;
                None
            }
        }
    }

    pub fn put(&self, payment_id: &str, variant: Variant, bytes: Bytes) {
        if bytes.len() > self.max_entry_bytes {
            return;
        }
        let mut inner = self.lock();
        inner.clock += 1;
        let used = inner.clock;
        let key = Key {
            payment_id: payment_id.to_owned(),
            variant,
        };
        if !inner.entries.contains_key(&key) && inner.entries.len() >= self.capacity {
            // A linear scan: the cache is small and inserts are rare next to hits.
            if let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            {
                inner.entries.remove(&oldest);
            }
        }
        inner.entries.insert(key, Entry { bytes, used });
    }

    /// The cached image, or renders it with `render` and keeps it.
    pub fn get_or_render(
        &self,
        payment_id: &str,
        variant: Variant,
        render: impl FnOnce() -> anyhow::Result<Vec<u8>>,
    ) -> anyhow::Result<Bytes> {
        if let Some(hit) = self.get(payment_id, &variant) {
            return Ok(hit);
        }
        let bytes = Bytes::from(render()?);
        self.put(payment_id, variant, bytes.clone());
        Ok(bytes)
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (hits, misses) since start.
    pub fn stats(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.hits, inner.misses)
    }
}

impl Default for QrCache {
    /// 512 images of at most 1 MiB: a few hundred open payments on a store's screens.
    fn default() -> Self {
        Self::new(512, 1 << 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(size: u32) -> Variant {
        Variant::Png { size, mono: false }
    }

    #[test]
    fn a_second_request_is_served_from_the_cache() {
        let cache = QrCache::new(4, 1024);
        let mut renders = 0;
        for _ in 0..3 {
            let b = cache
                .get_or_render("p1", png(256), || {
                    renders += 1;
                    Ok(vec![1, 2, 3])
                })
                .unwrap();
            assert_eq!(&b[..], &[1, 2, 3]);
        }
        assert_eq!(renders, 1);
        assert_eq!(cache.stats(), (2, 1));
    }

    #[test]
    fn the_least_recently_used_image_is_dropped_when_full() {
        let cache = QrCache::new(2, 1024);
        cache.put("a", png(256), Bytes::from_static(b"a"));
        cache.put("b", png(256), Bytes::from_static(b"b"));
        assert!(cache.get("a", &png(256)).is_some());
        cache.put("c", png(256), Bytes::from_static(b"c"));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("a", &png(256)).is_some());
        assert!(cache.get("b", &png(256)).is_none());
        assert!(cache.get("c", &png(256)).is_some());
    }

    #[test]
    fn variants_of_one_payment_are_kept_apart_and_big_images_are_not_kept() {
        let cache = QrCache::new(8, 4);
        cache.put("a", png(256), Bytes::from_static(b"x"));
        assert!(cache.get("a", &png(512)).is_none());
        assert!(
            cache
                .get(
                    "a",
                    &Variant::Png {
                        size: 256,
                        mono: true
                    }
                )
                .is_none()
        );
        cache.put(
            "a",
            Variant::Svg { size: 256 },
            Bytes::from_static(b"too big"),
        );
        assert!(cache.get("a", &Variant::Svg { size: 256 }).is_none());
    }
}
