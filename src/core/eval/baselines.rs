//! Baselines that need no model: the floor a trained run's numbers are read against.
//!
//! - **Pair judgement** ([`bow`]): a TF-IDF bag of words (Spärck Jones 1972; Salton & Buckley
//!   1988) read by a linear probe ([`DenseLogistic`](super::probe::DenseLogistic)) trained on
//!   one split's labelled pairs and scored on another's. Two feature maps: `bow`, symmetric in A
//!   and B (|A − B| and A ⊙ B, the matching features of Mou et al. 2016 and Conneau et al.
//!   2017), which sees what the two texts share but not their order, so on whole texts it sits
//!   at chance on swapped pairs; and `bow-ordered`, [A ; B], which can learn which words open a
//!   pair. What words alone reach is the bar a model's pair head or zero-shot score has to
//!   clear. The comparison gives them the tokens a model reads of a pair (A's end and B's start,
//!   [`super::pair_input::as_read`]), and that cut is ordered itself: a swapped ticket pair
//!   keeps a reply's sign-off and a ticket's opening where the right order keeps a ticket's
//!   sign-off and a reply's greeting, so there even `bow` reads order from which words survive
//!   the cut — as a model can.
//!   Both pair judges run on the pairs a run's probe reads ([`pairs`]).
//! - **Pair judgement by surface** ([`surface`]): the shortcut audit's surface classifier
//!   (first and last words, lengths, punctuation, greetings) on the same pairs: what the texts'
//!   surface gives away without reading for coherence.
//! - **Replies** ([`replies`]): two ways to answer a held-out ticket by copying a training
//!   resolution — the one for the majority action of the ticket's issue type, and the one of
//!   the most similar training ticket (TF-IDF cosine, a nearest-neighbour retrieval baseline) —
//!   scored by the compliance checker exactly as a generated reply is.
//! - **Reply tokens** ([`unigram`]): the perplexity of the held-out replies that `gen_ppl`
//!   scores, under the training split's add-one word frequencies — the floor of `gen_ppl`.

pub mod bow;
pub mod pairs;
pub mod replies;
pub mod surface;
pub mod unigram;

#[cfg(test)]
mod tests;
