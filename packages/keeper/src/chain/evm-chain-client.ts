import { RpcResponseError, type JsonRpcClient } from './json-rpc-client.js';

/** A block header, as far as anchoring needs it. */
export interface ChainBlock {
  readonly number: number;
  readonly hash: string;
  /** Seconds, as in the header. */
  readonly timestamp: number;
  /** Present on EIP-1559 chains. */
  readonly baseFeePerGas: bigint | undefined;
}

export interface ChainReceipt {
  readonly transactionHash: string;
  readonly blockNumber: number;
  readonly blockHash: string;
  /** 1 success, 0 reverted. */
  readonly status: number;
  readonly gasUsed: bigint;
  readonly effectiveGasPrice: bigint | undefined;
}

export interface ChainTransaction {
  readonly hash: string;
  readonly nonce: number;
  readonly blockNumber: number | null;
  readonly blockHash: string | null;
}

export type BlockTag = number | 'latest' | 'pending' | 'safe' | 'finalized';

/** Typed access to the handful of JSON-RPC methods anchoring uses. Errors are the transport's. */
export class EvmChainClient {
  constructor(readonly rpc: JsonRpcClient) {}

  async chainId(): Promise<number> {
    return Number(await this.rpc.call<string>('eth_chainId', []));
  }

  async blockNumber(): Promise<number> {
    return Number(await this.rpc.call<string>('eth_blockNumber', []));
  }

  async getBlock(tag: BlockTag): Promise<ChainBlock | null> {
    const raw = await this.rpc.call<RawBlock | null>('eth_getBlockByNumber', [quantityOrTag(tag), false]);
    return raw === null ? null : blockOf(raw);
  }

  /**
   * The `finalized` block's number, or undefined when the node does not know the tag (an error answer
   * or null: pre-merge chains, some L2s). Transport errors propagate.
   */
  async finalizedBlockNumber(): Promise<number | undefined> {
    try {
      const block = await this.getBlock('finalized');
      return block === null ? undefined : block.number;
    } catch (err) {
      if (err instanceof RpcResponseError) return undefined;
      throw err;
    }
  }

  /** The account's balance in wei at the latest block. */
  async balance(address: string): Promise<bigint> {
    return BigInt(await this.rpc.call<string>('eth_getBalance', [address, 'latest']));
  }

  async transactionCount(address: string, tag: 'pending' | 'latest'): Promise<number> {
    return Number(await this.rpc.call<string>('eth_getTransactionCount', [address, tag]));
  }

  async transactionByHash(hash: string): Promise<ChainTransaction | null> {
    const raw = await this.rpc.call<RawTransaction | null>('eth_getTransactionByHash', [hash]);
    if (raw === null) return null;
    return {
      hash: raw.hash.toLowerCase(),
      nonce: Number(raw.nonce),
      blockNumber: raw.blockNumber == null ? null : Number(raw.blockNumber),
      blockHash: raw.blockHash == null ? null : raw.blockHash.toLowerCase(),
    };
  }

  async receipt(hash: string): Promise<ChainReceipt | null> {
    const raw = await this.rpc.call<RawReceipt | null>('eth_getTransactionReceipt', [hash]);
    if (raw === null || raw.blockNumber == null || raw.blockHash == null) return null;
    return {
      transactionHash: raw.transactionHash.toLowerCase(),
      blockNumber: Number(raw.blockNumber),
      blockHash: raw.blockHash.toLowerCase(),
      status: raw.status == null ? 1 : Number(raw.status),
      gasUsed: BigInt(raw.gasUsed),
      effectiveGasPrice: raw.effectiveGasPrice == null ? undefined : BigInt(raw.effectiveGasPrice),
    };
  }

  async estimateGas(call: { from: string; to: string; data: string }): Promise<bigint> {
    return BigInt(await this.rpc.call<string>('eth_estimateGas', [call]));
  }

  /** The node's priority-fee suggestion, or undefined when it does not implement the method. */
  async maxPriorityFeePerGas(): Promise<bigint | undefined> {
    try {
      return BigInt(await this.rpc.call<string>('eth_maxPriorityFeePerGas', []));
    } catch (err) {
      if (err instanceof RpcResponseError) return undefined;
      throw err;
    }
  }

  async gasPrice(): Promise<bigint> {
    return BigInt(await this.rpc.call<string>('eth_gasPrice', []));
  }

  /** Broadcasts signed bytes; resolves with the hash the node computed. */
  async sendRawTransaction(raw: string): Promise<string> {
    return (await this.rpc.call<string>('eth_sendRawTransaction', [raw])).toLowerCase();
  }
}

interface RawBlock {
  number: string;
  hash: string;
  timestamp: string;
  baseFeePerGas?: string | null;
}

interface RawTransaction {
  hash: string;
  nonce: string;
  blockNumber?: string | null;
  blockHash?: string | null;
}

interface RawReceipt {
  transactionHash: string;
  blockNumber?: string | null;
  blockHash?: string | null;
  status?: string | null;
  gasUsed: string;
  effectiveGasPrice?: string | null;
}

function quantityOrTag(tag: BlockTag): string {
  return typeof tag === 'number' ? `0x${tag.toString(16)}` : tag;
}

function blockOf(raw: RawBlock): ChainBlock {
  return {
    number: Number(raw.number),
    hash: raw.hash.toLowerCase(),
    timestamp: Number(raw.timestamp),
    baseFeePerGas: raw.baseFeePerGas == null ? undefined : BigInt(raw.baseFeePerGas),
  };
}
