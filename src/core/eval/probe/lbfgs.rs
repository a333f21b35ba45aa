//! Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989; Nocedal & Wright 2006, alg. 7.4
//! and 7.5) with a backtracking line search on the Armijo condition (alg. 3.1): full batch,
//! from zero, no randomness. A correction whose curvature s·y is not positive is skipped, so
//! the inverse-Hessian estimate stays positive definite.

use crate::core::exec::Checkpoint;

/// When to stop and how much to remember.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    pub max_iterations: usize,
    /// Corrections (s, y) kept.
    pub memory: usize,
    /// Converged when no gradient component exceeds this.
    pub tolerance: f64,
}

/// Where the search stopped.
pub(super) struct Minimum {
    pub theta: Vec<f64>,
    pub iterations: usize,
    /// Whether the gradient fell below the tolerance (else the iteration cap, or a line search
    /// that found no lower point, ended the search).
    pub converged: bool,
}

/// Minimises `f` (which returns the value at θ and writes its gradient) over θ of `size`
/// numbers, from zero, awaiting `cp` after every iteration.
pub(super) async fn minimise(
    f: impl Fn(&[f64], &mut [f64]) -> f64,
    size: usize,
    settings: Settings,
    cp: &mut impl Checkpoint,
) -> Minimum {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut theta = vec![0.0; size];
    let mut grad = vec![0.0; size];
    let mut loss = f(&theta, &mut grad);
    // Corrections (s, y, 1 / y·s), oldest first.
    let mut memory: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    let mut next = theta.clone();
    let mut next_grad = vec![0.0; size];
    for iteration in 0..settings.max_iterations {
        if grad.iter().all(|g| g.abs() <= settings.tolerance) {
            return Minimum {
                theta,
                iterations: iteration,
                converged: true,
            };
        }
        // Two-loop recursion: direction = −H·grad.
        let mut q = grad.clone();
        let mut alphas = Vec::with_capacity(memory.len());
        for (s, y, rho) in memory.iter().rev() {
            let alpha = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(q, y)| *q -= alpha * y);
            alphas.push(alpha);
        }
        let gamma = match memory.last() {
            Some((s, y, _)) => dot(s, y) / dot(y, y),
            // First step: a unit-length move along the steepest descent.
            None => 1.0 / dot(&grad, &grad).sqrt(),
        };
        q.iter_mut().for_each(|q| *q *= gamma);
        for ((s, y, rho), alpha) in memory.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &q);
            q.iter_mut()
                .zip(s)
                .for_each(|(q, s)| *q += (alpha - beta) * s);
        }
        let direction: Vec<f64> = q.iter().map(|q| -q).collect();
        let slope = dot(&grad, &direction);
        if slope.is_nan() || slope >= 0.0 {
            if memory.is_empty() {
                // Not even steepest descent goes down: nothing more to gain.
                return Minimum {
                    theta,
                    iterations: iteration,
                    converged: false,
                };
            }
            // Not a descent direction (rounding): start again from steepest descent.
            memory.clear();
            continue;
        }
        let mut step = 1.0;
        let mut next_loss = f64::INFINITY;
        for _ in 0..50 {
            for ((n, t), d) in next.iter_mut().zip(&theta).zip(&direction) {
                *n = t + step * d;
            }
            next_loss = f(&next, &mut next_grad);
            if next_loss <= loss + 1e-4 * step * slope {
                break;
            }
            step /= 2.0;
        }
        if next_loss > loss + 1e-4 * step * slope {
            // No step decreases the loss any more: the minimum, to floating point.
            return Minimum {
                theta,
                iterations: iteration,
                converged: false,
            };
        }
        let s: Vec<f64> = next.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = next_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if memory.len() == settings.memory {
                memory.remove(0);
            }
            memory.push((s, y, 1.0 / sy));
        }
        std::mem::swap(&mut theta, &mut next);
        std::mem::swap(&mut grad, &mut next_grad);
        loss = next_loss;
        cp.checkpoint().await;
    }
    let converged = grad.iter().all(|g| g.abs() <= settings.tolerance);
    Minimum {
        theta,
        iterations: settings.max_iterations,
        converged,
    }
}
