//! Test support for runtimes that use this pallet's off-chain worker (std only).

/// Implements the off-chain signing traits for a mock runtime whose accounts are `u64`:
/// public keys are `UintAuthorityId`s (the account is the key), signatures `TestSignature`,
/// transactions `TestXt` signed by the account. Pair it with an `AppCrypto` whose types are
/// `UintAuthorityId` and `TestSignature`, and list the local keys with
/// `UintAuthorityId::set_all_keys`.
#[macro_export]
macro_rules! impl_test_signing {
	($runtime:ty, $call:ty) => {
		impl frame_system::offchain::SigningTypes for $runtime {
			type Public = sp_runtime::testing::UintAuthorityId;
			type Signature = sp_runtime::testing::TestSignature;
		}

		impl<C> frame_system::offchain::CreateTransactionBase<C> for $runtime
		where
			$call: From<C>,
		{
			type Extrinsic = sp_runtime::testing::TestXt<$call, ()>;
			type RuntimeCall = $call;
		}

		impl<C> frame_system::offchain::CreateSignedTransaction<C> for $runtime
		where
			$call: From<C>,
		{
			fn create_signed_transaction<
				A: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>,
			>(
				call: $call,
				_public: Self::Public,
				account: Self::AccountId,
				_nonce: Self::Nonce,
			) -> Option<Self::Extrinsic> {
				Some(sp_runtime::testing::TestXt::new_signed(call, account, (), ()))
			}
		}
	};
}
