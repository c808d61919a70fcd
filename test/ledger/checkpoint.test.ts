/**
 * Signed notes, checkpoints, cosignatures and quorum: interoperability with the Go sumdb/note
 * reference vector, the C2SP examples, and the roster rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MerkleTree,
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  addSignatures,
  checkpointText,
  cosignature,
  formatNote,
  generateIdentity,
  hashLeaf,
  identityFromPem,
  inspectCheckpoint,
  keyId,
  logSignature,
  parseCheckpointText,
  parseNote,
  parseRoster,
  rosterToJson,
  signCheckpoint,
  verifyCheckpoint,
  type NodeIdentity,
  type Roster,
} from '../../src/ledger/index.js';
import { isShareholdError, type ErrorCode } from '../../src/errors.js';

function code(f: () => unknown): ErrorCode | 'none' {
  try {
    f();
    return 'none';
  } catch (e) {
    assert.ok(isShareholdError(e), String(e));
    return e.code;
  }
}

function identityFromSeed(name: string, seed: Uint8Array): NodeIdentity {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed)]);
  const pem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
  return identityFromPem(name, pem);
}

void test('signed-note Ed25519 matches the golang.org/x/mod/sumdb/note reference vector', () => {
  // skey PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz
  const skey = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64');
  const vkey = Buffer.from('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'base64');
  assert.equal(skey[0], SIG_ED25519);
  const id = identityFromSeed('PeterNeumann', skey.subarray(1));
  assert.deepEqual(Buffer.from(id.publicKey), vkey.subarray(1));
  assert.equal(keyId('PeterNeumann', SIG_ED25519, id.publicKey), 0xc74f20a3);
  const text =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const note = formatNote({ text, signatures: [logSignature(text, 'PeterNeumann', id)] });
  assert.equal(
    note,
    text +
      '\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
  );
  const parsed = parseNote(note);
  assert.equal(parsed.text, text);
  assert.equal(parsed.signatures[0]?.keyId, 0xc74f20a3);
});

void test('C2SP tlog-cosignature example: key ID then big-endian timestamp', () => {
  const note =
    'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n' +
    '— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n' +
    '— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n';
  const n = parseNote(note);
  const cp = parseCheckpointText(n.text);
  assert.equal(cp.origin, 'example.com/behind-the-sofa');
  assert.equal(cp.size, 20852163);
  const cosig = n.signatures[1];
  assert.ok(cosig);
  assert.equal(cosig.sig.length, 72);
  assert.equal(new DataView(cosig.sig.buffer, cosig.sig.byteOffset).getBigUint64(0), 1679315147n); // "time 1679315147"
  assert.equal(checkpointText(cp), n.text);
});

void test('checkpoint text format and strict parsing', () => {
  const root = hashLeaf(new Uint8Array([1]));
  const text = checkpointText({ origin: 'example.org/log', size: 12, root });
  assert.equal(text, `example.org/log\n12\n${Buffer.from(root).toString('base64')}\n`);
  for (const bad of [
    'example.org/log\n012\nAAAA\n',
    'example.org/log\n12\n',
    `example.org/log\n-1\n${Buffer.from(root).toString('base64')}\n`,
    `example.org/log\n1\n${Buffer.from(root.subarray(1)).toString('base64')}\n`,
    `example.org/log\n1\n${Buffer.from(root).toString('base64')}`,
  ]) {
    assert.equal(
      code(() => parseCheckpointText(bad)),
      'invalid-argument',
      JSON.stringify(bad),
    );
  }
  assert.equal(
    code(() => checkpointText({ origin: 'has space', size: 1, root })),
    'invalid-argument',
  );
});

function consortium(n: number, quorum: number): { ids: NodeIdentity[]; roster: Roster } {
  const ids = Array.from({ length: n }, (_, i) => generateIdentity(`member-${i}.example`));
  const roster = parseRoster(
    rosterToJson({ origin: 'example.org/consortium', log: 'member-0.example', quorum, members: ids }),
  );
  return { ids, roster };
}

void test('a checkpoint counts with the log signature and a quorum of distinct cosigners', () => {
  const { ids, roster } = consortium(3, 2);
  const [a, b, c] = ids as [NodeIdentity, NodeIdentity, NodeIdentity];
  const tree = new MerkleTree();
  tree.append(hashLeaf(new Uint8Array([7])));
  const note = signCheckpoint({ origin: roster.origin, size: 1, root: tree.root() }, a);
  const text = parseNote(note).text;
  assert.equal(inspectCheckpoint(note, roster).cosigners.length, 0);
  assert.equal(
    code(() => verifyCheckpoint(note, roster)),
    'quorum-missing',
  );
  const one = addSignatures(note, [cosignature(text, b, 1700000000)]);
  assert.equal(
    code(() => verifyCheckpoint(one, roster)),
    'quorum-missing',
  );
  // the same member twice still counts once
  const twice = addSignatures(one, [cosignature(text, b, 1700000001)]);
  assert.equal(
    code(() => verifyCheckpoint(twice, roster)),
    'quorum-missing',
  );
  const two = addSignatures(one, [cosignature(text, c, 1700000002)]);
  const st = verifyCheckpoint(two, roster);
  assert.deepEqual(st.cosigners, ['member-1.example', 'member-2.example']);
  assert.equal(st.timestamps['member-2.example'], 1700000002);
  // a cosignature key ID uses type 0x04
  assert.equal(parseNote(two).signatures[1]?.keyId, keyId(b.name, SIG_COSIGNATURE_V1, b.publicKey));
});

void test('signature rules: unknown keys ignored, bad known signatures and missing log signature rejected', () => {
  const { ids, roster } = consortium(3, 1);
  const [a, b] = ids as [NodeIdentity, NodeIdentity];
  const root = hashLeaf(new Uint8Array([1]));
  const note = signCheckpoint({ origin: roster.origin, size: 1, root }, a);
  const text = parseNote(note).text;
  const stranger = generateIdentity('stranger.example');
  const withStranger = addSignatures(note, [cosignature(text, stranger, 1)]);
  assert.equal(inspectCheckpoint(withStranger, roster).cosigners.length, 0);
  // a member's name with a stranger's key: different key ID, ignored
  const impostor = identityFromSeed(b.name, new Uint8Array(32).fill(9));
  assert.equal(
    inspectCheckpoint(addSignatures(note, [cosignature(text, impostor, 1)]), roster).cosigners.length,
    0,
  );
  // a known key's signature over other text: rejected
  const other = signCheckpoint({ origin: roster.origin, size: 2, root }, a);
  const forged = addSignatures(note, [cosignature(parseNote(other).text, b, 1)]);
  assert.equal(
    code(() => inspectCheckpoint(forged, roster)),
    'signature-invalid',
  );
  // text changed after signing
  const tampered = note.replace('\n1\n', '\n2\n');
  assert.equal(
    code(() => inspectCheckpoint(tampered, roster)),
    'signature-invalid',
  );
  // only cosignatures, no log signature
  const noLog = formatNote({ text, signatures: [cosignature(text, b, 1)] });
  assert.equal(
    code(() => inspectCheckpoint(noLog, roster)),
    'signature-invalid',
  );
  // signed by a member but not the log key
  assert.equal(
    code(() => inspectCheckpoint(signCheckpoint({ origin: roster.origin, size: 1, root }, b), roster)),
    'signature-invalid',
  );
  // another log's checkpoint
  const elsewhere = signCheckpoint({ origin: 'example.org/other', size: 1, root }, a);
  assert.equal(
    code(() => inspectCheckpoint(elsewhere, roster)),
    'signature-invalid',
  );
});

void test('roster validation', () => {
  const { ids } = consortium(2, 1);
  const base = rosterToJson({ origin: 'o.example/log', log: ids[0]!.name, quorum: 1, members: ids });
  assert.equal(
    code(() => parseRoster({ ...base, quorum: 3 })),
    'invalid-argument',
  );
  assert.equal(
    code(() => parseRoster({ ...base, quorum: 0 })),
    'invalid-argument',
  );
  assert.equal(
    code(() => parseRoster({ ...base, log: 'nobody' })),
    'invalid-argument',
  );
  const members = base.members as { name: string; publicKey: string }[];
  assert.equal(
    code(() => parseRoster({ ...base, members: [members[0], { ...members[1], name: members[0]!.name }] })),
    'invalid-argument',
  );
  assert.equal(
    code(() =>
      parseRoster({ ...base, members: [members[0], { ...members[1], publicKey: members[0]!.publicKey }] }),
    ),
    'invalid-argument',
  );
  assert.equal(
    code(() => parseRoster({ ...base, members: [{ name: 'a b', publicKey: members[0]!.publicKey }] })),
    'invalid-argument',
  );
  assert.equal(parseRoster(base).members.length, 2);
});
