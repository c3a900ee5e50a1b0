//! Chain specifications built from the runtime's genesis presets.

use edgeproof_runtime::WASM_BINARY;
use sc_service::{ChainType, Properties};

/// The chain specification type of Edgeproof.
pub type ChainSpec = sc_service::GenericChainSpec;

/// Token symbol and decimals, shown by polkadot-js apps.
fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), "EDGE".into());
	properties.insert("tokenDecimals".into(), 12.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the node was built without the wasm runtime (SKIP_WASM_BUILD was set); rebuild it without"
			.to_string()
	})
}

/// `--dev`: one validator (Alice), funded dev accounts.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Edgeproof Development")
		.with_id("edgeproof_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// `--chain local`: Alice, Bob and Charlie validate; used by zombienet.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Edgeproof Local Testnet")
		.with_id("edgeproof_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}
