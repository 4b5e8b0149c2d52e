// Encode files with Hugging Face's tokenizers.js (the npm package
// @huggingface/tokenizers), for comparison with `lrc tokenize`.
//
// usage: node hf_tokenizers_check.mjs NODE_MODULES TOKENIZER_DIR FILE...
//
// NODE_MODULES is the node_modules folder that contains the package. For each
// FILE (UTF-8 text, read byte for byte) one line is printed: the JSON array
// of ids, without the post-processor's special tokens. The script exits 1
// when the package cannot decode the ids back to the file's text.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const [modules, dir, ...files] = process.argv.slice(2);
const require = createRequire(join(modules, "resolve-from-here.js"));
const { Tokenizer } = require("@huggingface/tokenizers");
// The package exports no package.json; it sits one folder above the entry point.
const entry = require.resolve("@huggingface/tokenizers");
const version = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")).version;

const tokenizerJson = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
const tokenizerConfig = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
process.stderr.write(`@huggingface/tokenizers ${version}\n`);

let status = 0;
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
  console.log(JSON.stringify(ids));
  const decoded = tokenizer.decode(ids, { skip_special_tokens: false });
  if (decoded !== text) {
    process.stderr.write(`${file}: decode(encode(text)) differs from the text\n`);
    status = 1;
  }
}
process.exit(status);
