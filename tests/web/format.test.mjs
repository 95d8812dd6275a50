// web/format.js: the page's number formatting, values derived by hand.
// Run: node --test tests/web/format.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fmt from '../../web/format.js';

test('bytes in GB (10^9) and GiB (2^30), about three significant digits', () => {
  // Llama-3.1-8B's KV cache at 128K in f16: 2 x 32 x 8 x 128 x 131072 x 2 = 17,179,869,184 bytes.
  assert.equal(fmt.bytes(17179869184, 'GB'), '17.2 GB');
  assert.equal(fmt.bytes(17179869184, 'GiB'), '16.0 GiB');
  assert.equal(fmt.bytes(287047680, 'GB'), '287 MB');  // the CUDA context: 287.05 x 10^6
  assert.equal(fmt.bytes(287047680, 'GiB'), '274 MiB');  // 287047680 / 2^20 = 273.75
  assert.equal(fmt.bytes(1342177280000, 'GB'), '1,342 GB');
  assert.equal(fmt.bytes(9.996e9, 'GB'), '10.0 GB');
  assert.equal(fmt.bytes(99.96e9, 'GB'), '100 GB');
  assert.equal(fmt.signedBytes(-3.1e9, 'GB'), '−3.10 GB');
  assert.equal(fmt.signedBytes(6.6e9, 'GB'), '+6.60 GB');
});

test('no NaN reaches the page', () => {
  for (const f of [fmt.bytes, fmt.signedBytes, fmt.params, fmt.count, fmt.tokens, fmt.usd, fmt.sig3]) {
    assert.equal(f(NaN), '—');
    assert.equal(f(undefined), '—');
    assert.equal(f(Infinity), '—');
  }
});

test('parameters, tokens, prices, model sizes', () => {
  assert.equal(fmt.params(8030261248), '8.03B');
  assert.equal(fmt.params(124439808), '124M');
  assert.equal(fmt.params(671026419200), '671B');
  assert.equal(fmt.tokens(131072), '128K');
  assert.equal(fmt.tokens(1048576), '1M');
  assert.equal(fmt.tokens(3000), '3,000');
  assert.equal(fmt.usd(1599), '$1,599');
  assert.equal(fmt.count(123456789), '123,456,789');
  assert.equal(fmt.modelSize(46702792704, 12879925248), 'MoE: 46.7B stored / 12.9B active');
  assert.equal(fmt.modelSize(8030261248, 8030261248), '8.03B parameters');
  assert.equal(fmt.esc('<a href="x">&\'</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  assert.equal(fmt.mdCell('a|b\nc'), 'a\\|b c');
});
