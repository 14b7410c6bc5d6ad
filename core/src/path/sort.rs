//! An in-place heapsort for the attributes of a relative distinguished name.
//!
//! A multi-valued RDN's attributes are put in a canonical order twice: in DER SET OF order
//! when a Name is read (`der::rdn`) and in the order of their prepared encodings when names
//! are compared (`name::DistinguishedName`). Neither needs a stable sort (equal attributes
//! are rejected in the first, identical in the second), and almost every RDN has one
//! attribute. The standard library's sorts are several kilobytes of code each (instantiated
//! per element type, more at higher optimization levels) in the npm package's wasm module,
//! where size is budgeted; this one is a few hundred bytes and keeps `O(n log n)` in the
//! worst case, so an RDN of thousands of attributes in a hostile certificate stays cheap.

/// Sorts `v` so that no element is `less` than the one before it (`less` a strict weak
/// order). Not stable.
pub(crate) fn unstable_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    let n = v.len();
    if n < 2 {
        return;
    }
    // Build a max-heap, then move its top behind the shrinking heap.
    for start in (0..n / 2).rev() {
        sift_down(v, start, n, &mut less);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end, &mut less);
    }
}

/// Restores the heap order of `v[..end]` below `node`.
fn sift_down<T>(v: &mut [T], mut node: usize, end: usize, less: &mut impl FnMut(&T, &T) -> bool) {
    loop {
        let mut child = 2 * node + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[node], &v[child]) {
            return;
        }
        v.swap(node, child);
        node = child;
    }
}

#[cfg(test)]
mod tests {
    use super::unstable_by;
    use alloc::vec::Vec;

    #[test]
    fn sorts_like_the_standard_sort() {
        // Every length up to 9 over a small alphabet (with repeats), and a longer run.
        let mut seed = 0x2545_f491_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for len in 0..10 {
            for _ in 0..200 {
                let v: Vec<u32> = (0..len).map(|_| next() % 5).collect();
                let mut ours = v.clone();
                unstable_by(&mut ours, |a, b| a < b);
                let mut theirs = v;
                theirs.sort_unstable();
                assert_eq!(ours, theirs);
            }
        }
        let v: Vec<u32> = (0..5000).map(|_| next()).collect();
        let mut ours = v.clone();
        unstable_by(&mut ours, |a, b| a < b);
        let mut theirs = v;
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
        // Descending order under a reversed comparison.
        unstable_by(&mut ours, |a, b| a > b);
        theirs.reverse();
        assert_eq!(ours, theirs);
    }
}
