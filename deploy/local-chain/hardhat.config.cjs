// The local chain of `npm run chain` (deploy/local-chain/start-chain.mjs; walk-through in
// docs/ANCHORING.md): a hardhat node that mines a block every FIELDPROOF_CHAIN_BLOCK_MS (1 s by default)
// even without transactions, so an anchor gathers the keeper's 12 confirmations on its own. Transactions
// are still mined at once (automine). The tests' node (test/hardhat/hardhat.config.cjs) mines only on
// transactions, which keeps them deterministic: keep the two apart.
const blockMs = Number(process.env.FIELDPROOF_CHAIN_BLOCK_MS || 1000);
if (!Number.isSafeInteger(blockMs) || blockMs < 1) {
  throw new Error(
    `FIELDPROOF_CHAIN_BLOCK_MS must be a whole number of milliseconds ≥ 1, got "${process.env.FIELDPROOF_CHAIN_BLOCK_MS}"`,
  );
}

module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      mining: { auto: true, interval: blockMs },
    },
  },
};
