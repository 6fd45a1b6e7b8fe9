// Minimal config for the local EVM node the anchoring tests start (`hardhat node --config` this file).
// FIELDPROOF_HARDHAT_CHAIN_ID picks the chain id (hardhat 2's `node` task has no --chain-id flag), so two
// nodes with different ids can run side by side. Automine on: tests turn it off where they need a pool.
module.exports = {
  networks: {
    hardhat: {
      chainId: Number(process.env.FIELDPROOF_HARDHAT_CHAIN_ID || 31337),
      // FIELDPROOF_HARDHAT_HARDFORK=berlin: a pre-London chain (no base fee, legacy transactions) that
      // does not know the `finalized` tag.
      ...(process.env.FIELDPROOF_HARDHAT_HARDFORK
        ? { hardfork: process.env.FIELDPROOF_HARDHAT_HARDFORK }
        : {}),
      mining: { auto: true, interval: 0 },
    },
  },
};
