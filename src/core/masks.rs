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
}
