// RFC 9162 (RFC 6962) Merkle tree hashing, inclusion and consistency proofs: generation over any
// source of complete-subtree hashes (the tiles), and verification as RFC 9162 §2.1.3.2 and
// §2.1.4.2 write it. No npm package generates both proof kinds from stored tiles (see
// docs/decisions/0007-merkle-log-own-code.md); the tests run the transparency-dev vectors.
import crypto from 'node:crypto'

export type Hash = Buffer

export const HASH_SIZE = 32

// crypto.hash (Node ≥ 20.12) is one call with no Hash object: hashing is the hot path of proofs
// and verification, and a Hash object per node costs a native handle the GC must sweep.
const oneShot = (data: Buffer): Hash => crypto.hash('sha256', data, 'buffer')

const LEAF_PREFIX = Buffer.from([0])

/** MTH({}) = SHA-256(). */
export const EMPTY_ROOT: Hash = oneShot(Buffer.alloc(0))

/** MTH({d}) = SHA-256(0x00 || d). */
export const leafHash = (entry: Uint8Array): Hash => oneShot(Buffer.concat([LEAF_PREFIX, entry]))

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Hash, right: Hash): Hash {
  const input = Buffer.allocUnsafe(1 + 2 * HASH_SIZE)
  input[0] = 1
  left.copy(input, 1)
  right.copy(input, 1 + HASH_SIZE)
  return oneShot(input)
}

/**
 * MTH of 2^k hashes packed in one buffer (a full tile), halved in place in a copy: one input
 * buffer for every node instead of one per node (verify hashes a million nodes this way).
 */
export function packedRoot(packed: Buffer): Hash {
  const work = Buffer.from(packed)
  const input = Buffer.allocUnsafe(1 + 2 * HASH_SIZE)
  input[0] = 1
  for (let n = packed.length / HASH_SIZE; n > 1; n /= 2) {
    for (let i = 0; i < n; i += 2) {
      work.copy(input, 1, i * HASH_SIZE, (i + 2) * HASH_SIZE)
      oneShot(input).copy(work, (i / 2) * HASH_SIZE)
    }
  }
  return work.subarray(0, HASH_SIZE)
}

/** The largest power of two smaller than n (n ≥ 2). */
function split(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** MTH of a list of leaf hashes (or of any level's consecutive node hashes forming a subtree). */
export function rootOf(hashes: readonly Hash[]): Hash {
  if (hashes.length === 0) return EMPTY_ROOT
  if (hashes.length === 1) return hashes[0]!
  const k = split(hashes.length)
  return nodeHash(rootOf(hashes.slice(0, k)), rootOf(hashes.slice(k)))
}

/**
 * A complete subtree: the 2^level leaves starting at index * 2^level. Every hash a proof or root
 * needs is a fold of such subtrees, which never change once the tree has grown past them.
 */
export interface NodeId {
  readonly level: number
  readonly index: number
}

/** The complete subtrees that make up the leaf range [start, end), left to right. */
export function rangeNodes(start: number, end: number): NodeId[] {
  const out: NodeId[] = []
  while (start < end) {
    // The largest aligned power-of-two block starting at `start` that fits in the range.
    let level = 0
    while ((start % 2 ** (level + 1) === 0) && start + 2 ** (level + 1) <= end) level++
    out.push({ level, index: start / 2 ** level })
    start += 2 ** level
  }
  return out
}

/** MTH(D[start:end]) from the range's complete subtrees, folded from the right as RFC 6962 splits. */
export function foldRange(nodes: readonly Hash[]): Hash {
  if (nodes.length === 0) return EMPTY_ROOT
  let acc = nodes.at(-1)!
  for (let i = nodes.length - 2; i >= 0; i--) acc = nodeHash(nodes[i]!, acc)
  return acc
}

/** The leaf ranges [a, b) whose hashes form PATH(m, D[0:n]) (RFC 6962 §2.1.1), leaf side first. */
export function inclusionRanges(m: number, n: number): [number, number][] {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 0 && m < n)) throw new RangeError(`no inclusion proof for leaf ${m} in a tree of ${n}`)
  const out: [number, number][] = []
  const path = (m: number, lo: number, hi: number) => {
    if (hi - lo <= 1) return
    const k = split(hi - lo)
    if (m < k) {
      path(m, lo, lo + k)
      out.push([lo + k, hi])
    } else {
      path(m - k, lo + k, hi)
      out.push([lo, lo + k])
    }
  }
  path(m, 0, n)
  return out
}

/** The leaf ranges whose hashes form PROOF(m, D[0:n]) (RFC 6962 §2.1.2), for 0 < m ≤ n. */
export function consistencyRanges(m: number, n: number): [number, number][] {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m > 0 && m <= n)) throw new RangeError(`no consistency proof from ${m} to ${n}`)
  const out: [number, number][] = []
  const sub = (m: number, lo: number, hi: number, b: boolean) => {
    const n = hi - lo
    if (m === n) {
      if (!b) out.push([lo, hi])
      return
    }
    const k = split(n)
    if (m <= k) {
      sub(m, lo, lo + k, b)
      out.push([lo + k, hi])
    } else {
      sub(m - k, lo + k, hi, false)
      out.push([lo, lo + k])
    }
  }
  sub(m, 0, n, true)
  return out
}

/** Reads complete-subtree hashes in bulk (from tiles, or from memory). */
export type NodeReader = (ids: readonly NodeId[]) => Promise<Hash[]>

/** The hash of each leaf range, reading every complete subtree needed in one call. */
export async function rangeHashes(ranges: readonly [number, number][], read: NodeReader): Promise<Hash[]> {
  const perRange = ranges.map(([a, b]) => rangeNodes(a, b))
  const flat = perRange.flat()
  const hashes = await read(flat)
  let at = 0
  return perRange.map((nodes) => foldRange(hashes.slice(at, (at += nodes.length))))
}

export const inclusionProof = (m: number, n: number, read: NodeReader): Promise<Hash[]> => rangeHashes(inclusionRanges(m, n), read)

export async function consistencyProof(m: number, n: number, read: NodeReader): Promise<Hash[]> {
  if (m === n) return []
  return rangeHashes(consistencyRanges(m, n), read)
}

export async function treeRoot(n: number, read: NodeReader): Promise<Hash> {
  if (n === 0) return EMPTY_ROOT
  return (await rangeHashes([[0, n]], read))[0]!
}

export class ProofError extends Error {}

const isHash = (h: unknown): h is Hash => Buffer.isBuffer(h) && h.length === HASH_SIZE

function checkInputs(proof: readonly Hash[], ...hashes: Hash[]): void {
  if (!proof.every(isHash) || !hashes.every(isHash)) throw new ProofError('every hash must be 32 bytes')
}

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or a ProofError. */
export function rootFromInclusion(index: number, size: number, leaf: Hash, proof: readonly Hash[]): Hash {
  checkInputs(proof, leaf)
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) throw new ProofError(`leaf index ${index} is not below the tree size ${size}`)
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of proof) {
    if (sn === 0) throw new ProofError('the inclusion proof is too long')
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  if (sn !== 0) throw new ProofError('the inclusion proof is too short')
  return r
}

export function verifyInclusion(index: number, size: number, leaf: Hash, proof: readonly Hash[], root: Hash): void {
  if (!isHash(root)) throw new ProofError('the root must be 32 bytes')
  if (!rootFromInclusion(index, size, leaf, proof).equals(root)) throw new ProofError('the inclusion proof does not lead to the root')
}

/** RFC 9162 §2.1.4.2, with the transparency-dev rules for the edge cases (size1 = 0 or size1 = size2). */
export function verifyConsistency(size1: number, size2: number, proof: readonly Hash[], root1: Hash, root2: Hash): void {
  if (!(Number.isSafeInteger(size1) && Number.isSafeInteger(size2) && size1 >= 0 && size2 >= 0)) throw new ProofError('tree sizes must be non-negative integers')
  if (size2 < size1) throw new ProofError(`the second tree (${size2}) is smaller than the first (${size1})`)
  if (size1 === 0) throw new ProofError('a consistency proof from the empty tree is meaningless')
  if (size1 === size2) {
    if (proof.length) throw new ProofError('equal sizes need an empty proof')
    if (!root1.equals(root2)) throw new ProofError('equal sizes with different roots')
    return
  }
  checkInputs(proof, root1, root2)
  if (!proof.length) throw new ProofError('the consistency proof is empty')
  let path = [...proof]
  // A first tree that is a complete subtree is its own first node.
  if ((size1 & (size1 - 1)) === 0) path = [root1, ...path]
  let fn = size1 - 1
  let sn = size2 - 1
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  let fr = path[0]!
  let sr = path[0]!
  for (const c of path.slice(1)) {
    if (sn === 0) throw new ProofError('the consistency proof is too long')
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      sr = nodeHash(sr, c)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  if (sn !== 0) throw new ProofError('the consistency proof is too short')
  if (!fr.equals(root1)) throw new ProofError('the consistency proof does not lead to the first root')
  if (!sr.equals(root2)) throw new ProofError('the consistency proof does not lead to the second root')
}

/** A NodeReader over leaf hashes held in memory (tests, small trees). */
export function memoryReader(leaves: readonly Hash[]): NodeReader {
  const memo = new Map<string, Hash>()
  const node = (level: number, index: number): Hash => {
    if (level === 0) return leaves[index]!
    const key = `${level}/${index}`
    let h = memo.get(key)
    if (!h) memo.set(key, (h = nodeHash(node(level - 1, 2 * index), node(level - 1, 2 * index + 1))))
    return h
  }
  return async (ids) =>
    ids.map(({ level, index }) => {
      if ((index + 1) * 2 ** level > leaves.length) throw new RangeError(`node ${level}/${index} is beyond ${leaves.length} leaves`)
      return node(level, index)
    })
}
