//! # Disputes pallet
//!
//! The challenge game of Edgeproof (DESIGN.md §4.6): a challenger disputes a claim that a model
//! gave an output on an input, and the chain settles it by a Merkle descent over the two parties'
//! canonical execution traces down to one operator, which the runtime re-executes.
//!
//! ## Overview
//! For now the crate holds the game as a pure state machine ([`game`]), with no FRAME types, so
//! that it can be tested exhaustively on its own; the FRAME pallet (bonds, storage, calls,
//! events, settlement) is built around it.
//!
//! - **Open.** The challenger posts its trace root and its canonical outputs with Merkle
//!   proofs; they must NOT be within the model's tolerance of the claimed outputs.
//! - **Respond.** The claimant posts its trace root and outputs; they MUST be within tolerance.
//! - **Bisect.** Round by round both parties reveal the two children of their current tree node;
//!   the game goes left if the left children differ, else right, down to one trace leaf.
//! - **One step.** An input leaf is judged against the claim's input, a padding leaf against the
//!   zero hash, a node leaf by re-executing that node (`edgeproof_canon::verify_one_step`).
//! - **Clocks.** Each party has a chess clock that runs only while it owes a move; running out
//!   loses ([`game::Game::timeout`]).
//!
//! ## Interface
//! - [`game::Game`]: `open`, `respond`, `bisect`, `one_step`, `timeout`, and read-only helpers
//!   (`owes`, `remaining`, `deadline`, `phase`, `position`, `round`, `resolution`).
//! - [`game::ClaimContext`]: what the chain knows about the disputed claim.
//!
//! ## Terms
//! - *Trace*: the m graph inputs then the n node outputs of the canonical program; its root is
//!   the Merkle root over their leaf hashes (`edgeproof_canon::merkle`).
//! - *Output leaves*: the last k trace leaves (the tail rule,
//!   `edgeproof_canon::output_leaf_range`).
//! - *Round*: one bisection step; round `r` is played at tree depth `r`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod game;
