// Differential test: synthetic GGUF files written by the test suite (every fixture architecture,
// many ggml types, every metadata type, v2 and v3, split parts) are parsed by vramcalc's parser
// (dumped by vram_corpus_tool as <file>.vram.json) and by @huggingface/gguf from npm. Tensor
// names, shapes, types, offsets and every metadata key, type and value must agree.
//
// Run: node --test tests/node/   (VRAM_CORPUS_TOOL overrides the tool's path)

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gguf, GGUFValueType } from "@huggingface/gguf";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const tool = process.env.VRAM_CORPUS_TOOL ?? join(root, "build/native-release/tests/vram_corpus_tool");

/** Compares one value of ours ({type, value} or an array object) with @huggingface/gguf's. */
function sameValue(key, type, ours, theirs) {
  switch (type) {
    case "UINT64":
    case "INT64":
      assert.equal(typeof theirs, "bigint", `${key}: 64-bit integers are BigInt`);
      assert.equal(theirs, BigInt(ours), key);
      break;
    case "FLOAT32":
    case "FLOAT64":
      // Both widen float32 exactly; JSON round-trips doubles.
      assert.ok(Object.is(theirs, ours), `${key}: ${theirs} vs ${ours}`);
      break;
    case "ARRAY":
      // A nested array: ours is {type, element_type, length, values}.
      sameArray(key, ours, theirs);
      break;
    default:
      assert.equal(theirs, ours, key);
  }
}

function sameArray(key, ours, theirs) {
  assert.ok(Array.isArray(theirs), `${key}: an array`);
  assert.equal(theirs.length, ours.length, `${key}: length`);
  // We keep the first values of long arrays (GgufLimits::kMaxStoredArrayValues); all of them here.
  assert.ok(ours.values.length <= ours.length);
  ours.values.forEach((v, i) => sameValue(`${key}[${i}]`, ours.element_type, v, theirs[i]));
}

test("vramcalc's GGUF parser agrees with @huggingface/gguf on synthetic files", async () => {
  assert.ok(existsSync(tool), `build the corpus tool first (${tool}); set VRAM_CORPUS_TOOL to override`);
  const dir = mkdtempSync(join(tmpdir(), "vramcalc-gguf-"));
  try {
    execFileSync(tool, ["differential", dir], { stdio: "pipe" });
    const files = readdirSync(dir).filter((f) => f.endsWith(".gguf")).sort();
    assert.ok(files.length >= 40, `${files.length} files`);
    const seenTypes = new Set();
    const seenValueTypes = new Set();
    for (const file of files) {
      const ours = JSON.parse(readFileSync(join(dir, `${file}.vram.json`), "utf8"));
      const theirs = await gguf(join(dir, file), { allowLocalFile: true, typedMetadata: true });
      const where = (s) => `${file}: ${s}`;

      assert.equal(theirs.metadata.version, ours.version, where("version"));
      assert.equal(theirs.metadata.tensor_count, BigInt(ours.tensors.length), where("tensor_count"));
      assert.equal(theirs.metadata.kv_count, BigInt(ours.metadata.length), where("kv_count"));
      assert.equal(theirs.tensorDataOffset, BigInt(ours.data_offset), where("data offset"));

      // Tensor infos.
      assert.equal(theirs.tensorInfos.length, ours.tensors.length, where("tensors"));
      ours.tensors.forEach((t, i) => {
        const u = theirs.tensorInfos[i];
        assert.equal(u.name, t.name, where(`tensor ${i} name`));
        assert.deepEqual(u.shape.map(String), t.shape, where(`${t.name} shape`));
        assert.equal(u.dtype, t.type, where(`${t.name} type`));
        assert.equal(u.offset, BigInt(t.offset), where(`${t.name} offset`));
        seenTypes.add(t.type);
      });

      // Metadata: the same keys, types and values.
      const typed = theirs.typedMetadata;
      const theirKeys = Object.keys(typed).filter((k) => !["version", "tensor_count", "kv_count"].includes(k));
      assert.deepEqual(theirKeys.sort(), ours.metadata.map((kv) => kv.key).sort(), where("keys"));
      for (const kv of ours.metadata) {
        const t = typed[kv.key];
        assert.equal(GGUFValueType[t.type], kv.type, where(`${kv.key} type`));
        seenValueTypes.add(kv.type);
        if (kv.type === "ARRAY") {
          assert.equal(GGUFValueType[t.subType], kv.element_type, where(`${kv.key} element type`));
          seenValueTypes.add(`ARRAY of ${kv.element_type}`);
          sameArray(where(kv.key), kv, t.value);
        } else {
          sameValue(where(kv.key), kv.type, kv.value, t.value);
        }
      }
    }
    // The corpus covers what it claims to.
    for (const type of ["UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING",
                        "ARRAY", "UINT64", "INT64", "FLOAT64", "ARRAY of ARRAY", "ARRAY of STRING"]) {
      assert.ok(seenValueTypes.has(type), `no metadata of type ${type}`);
    }
    // Every ggml type vramcalc knows (formats.cc), 32 of them, with the model files adding
    // realistic mixes of most.
    assert.equal(seenTypes.size, 32, `ggml types seen: ${[...seenTypes].sort((a, b) => a - b)}`);
    console.log(`# ${files.length} files, ${seenTypes.size} ggml types, ${seenValueTypes.size} metadata value kinds agree`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
