//! Genesis presets: `development` (one validator, Alice) and `local_testnet` (Alice, Bob and
//! Charlie, for zombienet). The node builds its chain specs from these.

use alloc::{vec, vec::Vec};
use frame_support::{build_struct_json_patch, traits::ConstU32, BoundedVec};
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use sp_runtime::{traits::IdentifyAccount, MultiSigner};

use crate::{
	AccountId, AttestationsConfig, Balance, BalancesConfig, BlockNumber, DevicesConfig,
	DisputesConfig, RuntimeGenesisConfig, SudoConfig, UNIT,
};

/// What every endowed dev account starts with.
pub const ENDOWMENT: Balance = 1_000_000 * UNIT;

/// A validator from a well-known dev seed: its Aura key (sr25519), GRANDPA key (ed25519) and
/// checker account (the ed25519 key of the same seed, under the `echk` key type).
struct Validator {
	aura: AuraId,
	grandpa: GrandpaId,
	checker: AccountId,
}

fn validator(seed: Sr25519Keyring, ed: Ed25519Keyring) -> Validator {
	Validator {
		aura: seed.public().into(),
		grandpa: ed.public().into(),
		checker: MultiSigner::from(ed.public()).into_account(),
	}
}

fn testnet_genesis(
	validators: Vec<Validator>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
	challenge_period: BlockNumber,
	clock_budget: u32,
) -> Value {
	let checkers: Vec<AccountId> = validators.iter().map(|v| v.checker.clone()).collect();
	// The checkers pay their transactions' fees: fund them like the dev accounts.
	let balances: Vec<(AccountId, Balance)> = endowed_accounts
		.into_iter()
		.chain(checkers.iter().cloned())
		.map(|k| (k, ENDOWMENT))
		.collect();
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances },
		aura: pallet_aura::GenesisConfig {
			authorities: validators.iter().map(|v| v.aura.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: validators.iter().map(|v| (v.grandpa.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
		// The presets have one and three validators, far below `MaxCheckers` (32).
		attestations: AttestationsConfig {
			checkers: BoundedVec::truncate_from(checkers),
			challenge_period: Some(challenge_period),
		},
		disputes: DisputesConfig {
			clock_budget: Some(clock_budget),
			min_extension: Some(clock_budget / 4),
		},
		devices: DevicesConfig { trusted_roots: attestation_roots() },
	})
}

/// Google's hardware attestation roots (RSA-4096 and P-384), the keys every genuine Android
/// Key Attestation chain ends in, and Apple's App Attestation root (P-384), whose key signs
/// every genuine App Attest object's chain.
fn attestation_roots() -> BoundedVec<pallet_devices::RootKey, ConstU32<8>> {
	let keys = edgeproof_key_attestation::roots::GENESIS
		.iter()
		.filter_map(|cert| edgeproof_key_attestation::roots::spki(cert))
		.filter_map(|key| pallet_devices::RootKey::try_from(key).ok());
	BoundedVec::truncate_from(keys.collect())
}

/// The well-known dev accounts (Alice … Ferdie and their stashes).
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.filter(|k| *k != Sr25519Keyring::One && *k != Sr25519Keyring::Two)
		.map(|k| k.to_account_id())
		.collect()
}

/// One validator (Alice), funded dev accounts, Alice as sudo; claims may be disputed for 5
/// blocks (30 s) and each party of a dispute has 10 blocks (one minute) on its clock, so that
/// claims and disputes settle quickly on a dev chain.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
		5,
		10,
	)
}

/// Three validators (Alice, Bob, Charlie), funded dev accounts, Alice as sudo; a challenge
/// period of 10 blocks (one minute) and 20-block (two-minute) dispute clocks.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			validator(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			validator(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		],
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
		10,
		20,
	)
}

/// The JSON patch of the preset `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	serde_json::to_string(&patch).ok().map(|json| json.into_bytes())
}

/// The presets this runtime provides.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
