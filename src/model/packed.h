// packed.h: the edgebert packed model file (docs/FORMAT.md): one little-endian, versioned file
// with int8 weights, 64-byte-aligned tensors, the config and tokenizer files, and a checksum.
// Read in place: the Model's weights are views into the caller's buffer (in wasm, the heap).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/model.h"
#include "util/status.h"

namespace edgebert {

constexpr char kPackedMagic[8] = {'E', 'D', 'G', 'E', 'B', 'E', 'R', 'T'};
constexpr uint32_t kPackedVersion = 2;  // written; versions 1 and 2 are read
constexpr size_t kPackedPreambleBytes = 32;
constexpr size_t kPackedAlignment = 64;

// What goes into a packed file: a Hugging Face checkpoint as bytes, so the same code serves the
// CLI (files read from a directory) and the browser (files dropped on a page).
struct ConvertInputs {
  std::string_view config_json;   // config.json
  std::string_view safetensors;   // model.safetensors
  // Tokenizer files carried verbatim, by file name: vocab.txt, tokenizer.json,
  // tokenizer_config.json, special_tokens_map.json (any subset; others are rejected).
  std::vector<std::pair<std::string, std::string_view>> files;
};

struct ConvertReport {
  size_t packed_bytes = 0;
  // Per quantized tensor: name and the largest |w - dequant(q)| relative to the row's max |w|.
  std::vector<std::pair<std::string, float>> quant_error;
};

// Converts a checkpoint to a packed model. Linear weights and word embeddings become int8 per
// output channel / row; LayerNorm, biases, position and token-type tables and the classifier /
// qa_outputs heads stay fp32 (see docs/FORMAT.md for the measurements behind this).
Result<std::string> ConvertToPacked(const ConvertInputs& in, ConvertReport* report = nullptr);

// Validates a packed file and binds a Model to it in place. `data` must stay alive and unchanged
// for the Model's lifetime and be 4-byte aligned (64 recommended). The checksum is verified.
// Read-only buffers cannot hold the GEMM's packed weights, so each Linear weight is packed into a
// copy (QLinearPackedBytes, about the int8 size): for callers that keep the file mapped read-only.
Result<std::unique_ptr<Model>> LoadPackedModel(const uint8_t* data, size_t size);

// Like LoadPackedModel, for a buffer the caller hands over: once the checksum, the header and every
// tensor are validated, each Linear weight that has room reserved (version 2, docs/FORMAT.md) is
// repacked over its int8 values into the GEMM's layout (one tensor-sized temporary at a time), so
// the weights exist once. After a successful load the buffer is no longer a valid packed file;
// it must stay alive for the Model's lifetime and not be modified. On failure the buffer is
// unchanged. Version-1 files (no room) and rooms too small for this build's kernel take the copy.
Result<std::unique_ptr<Model>> LoadPackedModelInPlace(uint8_t* data, size_t size);

// Number of tokens in a tokenizer file (vocab.txt lines or tokenizer.json model.vocab entries).
Result<int64_t> CountVocabulary(std::string_view file_name, std::string_view bytes);

}  // namespace edgebert
