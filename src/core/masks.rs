//! Attention masks as plain data. A mask is a pure function of sizes (and, for later
//! objectives, segment ids or a factorisation order); the same value is turned into the tensor
//! the model applies and into the picture students see, so what they see is what trained.
//! Convention, as in burn's attention: `true` means *blocked* — the query may not read that key.

use burn::tensor::{Bool, Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// One boolean mask per sequence of a batch, row-major `[batch, query, key]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionMask {
    pub batch_size: usize,
    pub seq_len: usize,
    pub blocked: Vec<bool>,
}

impl AttentionMask {
    /// Causal (left-to-right) mask, GPT (Radford et al. 2018): a query sees itself and earlier
    /// keys only. Every row keeps at least its diagonal, so no softmax row is empty.
    pub fn causal(batch_size: usize, seq_len: usize) -> Self {
        let one: Vec<bool> = (0..seq_len)
            .flat_map(|q| (0..seq_len).map(move |k| k > q))
            .collect();
        Self {
            batch_size,
            seq_len,
            blocked: one.repeat(batch_size),
        }
    }

    pub fn is_blocked(&self, batch: usize, query: usize, key: usize) -> bool {
        self.blocked[(batch * self.seq_len + query) * self.seq_len + key]
    }

    /// The mask as a `[batch, seq, seq]` Bool tensor.
    pub fn to_tensor(&self, device: &Device) -> Tensor<3, Bool> {
        let data = TensorData::new(
            self.blocked.clone(),
            [self.batch_size, self.seq_len, self.seq_len],
        );
        Tensor::from_data(data, device)
    }

    /// Rows with no allowed key. Softmax over such a row is meaningless (burn would spread it
    /// uniformly over blocked keys), so masks built by the lab never have one.
    pub fn empty_rows(&self) -> usize {
        self.blocked
            .chunks(self.seq_len.max(1))
            .filter(|row| row.iter().all(|&b| b))
            .count()
    }
}

/// A rectangular mask, `[batch, query, key]`, for cross-attention: which encoder positions
/// each decoder position may read. `true` means blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossMask {
    pub batch_size: usize,
    pub queries: usize,
    pub keys: usize,
    pub blocked: Vec<bool>,
}

impl CrossMask {
    /// Every query may read every key whose `key_padding` flag is false.
    /// `key_padding` is `[batch, keys]`.
    pub fn from_key_padding(queries: usize, keys: usize, key_padding: &[bool]) -> Self {
        let batch_size = key_padding.len() / keys.max(1);
        let blocked = (0..batch_size)
            .flat_map(|b| {
                let row = &key_padding[b * keys..(b + 1) * keys];
                std::iter::repeat_n(row, queries).flatten().copied()
            })
            .collect();
        Self {
            batch_size,
            queries,
            keys,
            blocked,
        }
    }

    pub fn is_blocked(&self, batch: usize, query: usize, key: usize) -> bool {
        self.blocked[(batch * self.queries + query) * self.keys + key]
    }

    /// The mask as a `[batch, query, key]` Bool tensor.
    pub fn to_tensor(&self, device: &Device) -> Tensor<3, Bool> {
        let data = TensorData::new(
            self.blocked.clone(),
            [self.batch_size, self.queries, self.keys],
        );
        Tensor::from_data(data, device)
    }
}

impl AttentionMask {
    /// Bidirectional mask (BERT's encoder): every query reads every key that is not padding;
    /// a padded query reads every real key of its sequence so no row is empty (its output is
    /// never scored). `key_padding` is `[batch, seq]`.
    pub fn bidirectional(seq_len: usize, key_padding: &[bool]) -> Self {
        let batch_size = key_padding.len() / seq_len.max(1);
        let blocked = (0..batch_size)
            .flat_map(|b| {
                let row = &key_padding[b * seq_len..(b + 1) * seq_len];
                std::iter::repeat_n(row, seq_len).flatten().copied()
            })
            .collect();
        Self {
            batch_size,
            seq_len,
            blocked,
        }
    }

    /// Causal mask that also blocks padded keys; a padded query keeps its diagonal so no row
    /// is empty. `key_padding` is `[batch, seq]`.
    pub fn causal_with_padding(seq_len: usize, key_padding: &[bool]) -> Self {
        let batch_size = key_padding.len() / seq_len.max(1);
        let mut blocked = Vec::with_capacity(batch_size * seq_len * seq_len);
        for b in 0..batch_size {
            let row = &key_padding[b * seq_len..(b + 1) * seq_len];
            for q in 0..seq_len {
                for (k, &pad) in row.iter().enumerate() {
                    blocked.push(k > q || (pad && k != q));
                }
            }
        }
        Self {
            batch_size,
            seq_len,
            blocked,
        }
    }
}

impl AttentionMask {
    /// The masks of sequences `rows`.
    pub fn rows(&self, rows: std::ops::Range<usize>) -> Self {
        let cells = self.seq_len * self.seq_len;
        Self {
            batch_size: rows.len(),
            seq_len: self.seq_len,
            blocked: self.blocked[rows.start * cells..rows.end * cells].to_vec(),
        }
    }
}

impl CrossMask {
    /// The masks of sequences `rows`.
    pub fn rows(&self, rows: std::ops::Range<usize>) -> Self {
        let cells = self.queries * self.keys;
        Self {
            batch_size: rows.len(),
            queries: self.queries,
            keys: self.keys,
            blocked: self.blocked[rows.start * cells..rows.end * cells].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causal_mask_blocks_exactly_the_future() {
        let m = AttentionMask::causal(2, 5);
        for b in 0..2 {
            for q in 0..5 {
                for k in 0..5 {
                    assert_eq!(m.is_blocked(b, q, k), k > q);
                }
            }
        }
        assert_eq!(m.empty_rows(), 0);
    }

    #[test]
    fn padding_is_blocked_as_a_key_and_no_row_is_empty() {
        let pad = [false, false, true, false, true, true];
        let bi = AttentionMask::bidirectional(3, &pad);
        assert!(!bi.is_blocked(0, 0, 1) && bi.is_blocked(0, 1, 2) && !bi.is_blocked(1, 2, 0));
        let causal = AttentionMask::causal_with_padding(3, &pad);
        assert!(causal.is_blocked(0, 0, 1), "the future stays blocked");
        assert!(causal.is_blocked(1, 2, 1), "a padded key is blocked");
        assert!(
            !causal.is_blocked(1, 1, 1),
            "a padded query keeps its diagonal"
        );
        assert_eq!(bi.empty_rows(), 0);
        assert_eq!(causal.empty_rows(), 0);
        let cross = CrossMask::from_key_padding(2, 3, &pad);
        assert!(
            cross.is_blocked(0, 1, 2) && !cross.is_blocked(1, 0, 0) && cross.is_blocked(1, 1, 2)
        );
    }
}
