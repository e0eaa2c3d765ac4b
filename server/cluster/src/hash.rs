//! Which shard a point lives in: a stable hash of its id. "Stable" means fixed by this file,
//! not by the standard library's randomised or version-dependent hashers: a point must map to
//! the same shard on every node, in every build, forever (changing this moves every point).

use grove_storage::PointId;

/// FNV-1a over the id's bytes (a tag byte, then the u64 little-endian or the UUID's 16 bytes),
/// finished with the splitmix64 mixer so consecutive integer ids spread over the shards.
pub fn point_hash(id: &PointId) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    match id {
        PointId::Num(n) => {
            eat(0);
            n.to_le_bytes().into_iter().for_each(&mut eat);
        }
        PointId::Uuid(u) => {
            eat(1);
            u.as_bytes().iter().copied().for_each(&mut eat);
        }
    }
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The shard of a point among `shard_number` shards.
pub fn shard_of(id: &PointId, shard_number: u32) -> u32 {
    (point_hash(id) % u64::from(shard_number.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_pinned() {
        // These numbers are the contract: if they change, every stored point is on the wrong shard.
        assert_eq!(point_hash(&PointId::Num(0)), 12_111_055_192_015_656_419);
        let pinned: Vec<u32> = (0..8).map(|i| shard_of(&PointId::Num(i), 3)).collect();
        assert_eq!(pinned, PINNED);
    }

    const PINNED: [u32; 8] = [2, 0, 1, 0, 2, 2, 0, 0];

    #[test]
    fn spreads_sequential_ids() {
        let mut counts = [0u32; 3];
        for i in 0..30_000u64 {
            counts[shard_of(&PointId::Num(i), 3) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }
}
