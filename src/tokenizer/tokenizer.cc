// tokenizer.cc: loading tokenizer files and the encode pipeline (added tokens, normalize,
// pre-tokenize, WordPiece, truncate, post-process, pad), following HF tokenizers step by step.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <limits>

#include "util/json.h"
#include "util/unicode_tables.h"
#include "util/utf8.h"

namespace edgebert {
namespace {

bool IsRustWhitespace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return unicode::Flags(cp) & unicode::kWhiteSpace;
}

// Byte length of the whitespace run that ends text[0, end) (HF space_leftmost_at_end).
size_t TrailingWhitespace(std::string_view text, size_t begin, size_t end) {
  size_t pos = begin, run_start = end;
  bool in_run = false;
  while (pos < end) {
    char32_t cp;
    const size_t len = DecodeUtf8(text.substr(0, end), pos, &cp);
    if (IsRustWhitespace(cp)) {
      if (!in_run) run_start = pos;
      in_run = true;
    } else {
      in_run = false;
    }
    pos += len;
  }
  return in_run ? end - run_start : 0;
}

size_t LeadingWhitespace(std::string_view text, size_t begin) {
  size_t pos = begin;
  while (pos < text.size()) {
    char32_t cp;
    const size_t len = DecodeUtf8(text, pos, &cp);
    if (!IsRustWhitespace(cp)) break;
    pos += len;
  }
  return pos - begin;
}

// A JSON value that may be a string or an AddedToken-like object {"content": ...}.
std::string TokenContent(const Json* v) {
  if (!v) return "";
  if (v->is_string()) return v->as_string();
  if (const Json* c = v->Find("content"); c && c->is_string()) return c->as_string();
  return "";
}

Status ParseAddedTokenFlags(const Json& t, AddedToken* a, const std::string& where) {
  auto flag = [&](const char* key, bool* out) -> Status {
    const Json* v = t.Find(key);
    if (!v || v->is_null()) return Status::Ok();
    if (!v->is_bool()) return InvalidArgument(where + ": \"" + key + "\" must be true or false");
    *out = v->as_bool();
    return Status::Ok();
  };
  EB_RETURN_IF_ERROR(flag("single_word", &a->single_word));
  EB_RETURN_IF_ERROR(flag("lstrip", &a->lstrip));
  EB_RETURN_IF_ERROR(flag("rstrip", &a->rstrip));
  EB_RETURN_IF_ERROR(flag("normalized", &a->normalized));
  EB_RETURN_IF_ERROR(flag("special", &a->special));
  return Status::Ok();
}

Result<std::vector<TemplatePiece>> ParseTemplate(const Json* pieces, const Json* specials,
                                                 const std::string& where) {
  if (!pieces || !pieces->is_array()) {
    return InvalidArgument(where + " must be an array of SpecialToken/Sequence pieces");
  }
  std::vector<TemplatePiece> out;
  for (const Json& p : pieces->as_array()) {
    TemplatePiece tp;
    if (const Json* seq = p.Find("Sequence")) {
      EB_ASSIGN_OR_RETURN(std::string id, GetString(*seq, "id", where + " Sequence"));
      if (id != "A" && id != "B") return InvalidArgument(where + ": Sequence id '" + id + "' is not A or B");
      EB_ASSIGN_OR_RETURN(int64_t type_id, GetInt(*seq, "type_id", where + " Sequence"));
      tp.is_sequence = true;
      tp.sequence = id == "A" ? 0 : 1;
      tp.type_id = static_cast<int32_t>(type_id);
    } else if (const Json* sp = p.Find("SpecialToken")) {
      EB_ASSIGN_OR_RETURN(std::string id, GetString(*sp, "id", where + " SpecialToken"));
      EB_ASSIGN_OR_RETURN(int64_t type_id, GetInt(*sp, "type_id", where + " SpecialToken"));
      const Json* st = specials ? specials->Find(id) : nullptr;
      const Json* ids = st ? st->Find("ids") : nullptr;
      if (!ids || !ids->is_array() || ids->size() == 0) {
        return NotFound(where + ": special token '" + id + "' has no ids in post_processor.special_tokens");
      }
      for (const Json& i : ids->as_array()) {
        if (!i.is_number() || i.as_int(-1) < 0) return InvalidArgument(where + ": special token '" + id + "' has a bad id");
        tp.ids.push_back(static_cast<int32_t>(i.as_int()));
      }
      tp.type_id = static_cast<int32_t>(type_id);
    } else {
      return Unsupported(where + ": a piece that is neither Sequence nor SpecialToken");
    }
    out.push_back(std::move(tp));
  }
  return out;
}

std::vector<TemplatePiece> BertTemplate(int32_t cls, int32_t sep, bool pair) {
  std::vector<TemplatePiece> t;
  TemplatePiece c;
  c.ids = {cls};
  TemplatePiece s;
  s.ids = {sep};
  TemplatePiece a;
  a.is_sequence = true;
  t = {c, a, s};
  if (pair) {
    TemplatePiece b;
    b.is_sequence = true;
    b.sequence = 1;
    b.type_id = 1;
    TemplatePiece s1 = s;
    s1.type_id = 1;
    t.push_back(b);
    t.push_back(s1);
  }
  return t;
}

Result<TruncationStrategy> ParseStrategy(const std::string& s, const std::string& where) {
  if (s == "LongestFirst" || s == "longest_first") return TruncationStrategy::kLongestFirst;
  if (s == "OnlyFirst" || s == "only_first") return TruncationStrategy::kOnlyFirst;
  if (s == "OnlySecond" || s == "only_second") return TruncationStrategy::kOnlySecond;
  return InvalidArgument(where + ": unknown truncation strategy '" + s + "'");
}

}  // namespace

Status Tokenizer::Validate() {
  for (const AddedToken& a : added_tokens_) {
    if (a.content.empty()) return InvalidArgument("added token with id " + std::to_string(a.id) + " is empty");
    if (a.single_word) {
      return Unsupported("added token '" + a.content + "': single_word=true is not supported");
    }
    AddedPattern p{a.content, a.id, a.lstrip, a.rstrip};
    if (a.normalized) {
      // HF matches these on normalized text, against the normalized content.
      std::vector<NormChar> chars;
      normalizer_.Normalize(a.content, 0, a.content.size(), &chars);
      p.content.clear();
      for (const NormChar& c : chars) AppendUtf8(c.cp, &p.content);
      if (p.content.empty()) continue;  // normalizes to nothing: can never match
    }
    AddedMatcher& m = a.normalized ? normalized_added_ : raw_added_;
    m.first_byte[static_cast<unsigned char>(p.content[0])] = true;
    m.patterns.push_back(std::move(p));
  }
  // Longest first so the first match at a position is the leftmost-longest one.
  for (AddedMatcher* m : {&raw_added_, &normalized_added_}) {
    std::stable_sort(m->patterns.begin(), m->patterns.end(),
                     [](const AddedPattern& x, const AddedPattern& y) { return x.content.size() > y.content.size(); });
  }
  return Status::Ok();
}

void Tokenizer::FindMatches(std::string_view s, const AddedMatcher& m, std::vector<Match>* out) {
  out->clear();
  if (m.empty()) return;
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  size_t start_offset = 0;  // end of the previous match
  size_t pos = 0;
  while (pos < s.size()) {
    if (!m.first_byte[b[pos]]) {
      ++pos;
      continue;
    }
    const AddedPattern* match = nullptr;
    for (const AddedPattern& p : m.patterns) {
      if (s.compare(pos, p.content.size(), p.content) == 0) {
        match = &p;
        break;
      }
    }
    if (!match) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + match->content.size();
    if (match->lstrip) start = std::max(start_offset, start - TrailingWhitespace(s, start_offset, start));
    if (match->rstrip) stop += LeadingWhitespace(s, stop);
    out->push_back({start, stop, match->id});
    start_offset = pos = stop;
  }
}

Result<Tokenizer> Tokenizer::FromTokenizerJson(std::string_view tokenizer_json) {
  const std::string where = "tokenizer.json";
  EB_ASSIGN_OR_RETURN(Json root, ParseJson(tokenizer_json, "tokenizer.json"));
  if (!root.is_object()) return InvalidArgument(where + ": the top level is not an object");
  Tokenizer tok;

  // Model.
  const Json* model = root.Find("model");
  if (!model || !model->is_object()) return NotFound(where + ": no \"model\" object");
  const Json* mtype = model->Find("type");
  if (!mtype || mtype->as_string() != "WordPiece") {
    return Unsupported(where + ": model type '" + (mtype ? mtype->as_string() : std::string("?")) +
                       "' (only WordPiece is supported)");
  }
  WordPieceOptions wpo;
  if (const Json* v = model->Find("unk_token"); v && v->is_string()) wpo.unk_token = v->as_string();
  if (const Json* v = model->Find("continuing_subword_prefix"); v && v->is_string()) {
    wpo.continuing_subword_prefix = v->as_string();
  }
  if (const Json* v = model->Find("max_input_chars_per_word"); v && v->is_number()) {
    if (v->as_int(-1) < 0) return InvalidArgument(where + ": model.max_input_chars_per_word must be >= 0");
    wpo.max_input_chars_per_word = static_cast<size_t>(v->as_int());
  }
  const Json* vocab = model->Find("vocab");
  if (!vocab || !vocab->is_object()) return NotFound(where + ": model.vocab is not an object");
  std::vector<std::string> by_id(vocab->size());
  std::vector<bool> seen(vocab->size(), false);
  for (const auto& [token, id] : vocab->as_object()) {
    const int64_t i = id.as_int(-1);
    if (i < 0 || static_cast<size_t>(i) >= by_id.size() || seen[static_cast<size_t>(i)]) {
      return CorruptData(where + ": model.vocab id " + std::to_string(i) + " of token '" + token +
                         "' is not a unique id in [0, " + std::to_string(by_id.size()) + ")");
    }
    seen[static_cast<size_t>(i)] = true;
    by_id[static_cast<size_t>(i)] = token;
  }
  EB_ASSIGN_OR_RETURN(Vocab v, Vocab::Build(by_id, where + " model.vocab"));
  EB_ASSIGN_OR_RETURN(tok.model_, WordPiece::Create(std::move(v), wpo));

  // Normalizer.
  const Json* norm = root.Find("normalizer");
  if (!norm || norm->is_null()) {
    BertNormalizerOptions o;
    o.clean_text = o.handle_chinese_chars = o.lowercase = false;
    o.strip_accents = false;
    tok.normalizer_ = BertNormalizer(o);
  } else {
    const Json* t = norm->Find("type");
    if (!t || t->as_string() != "BertNormalizer") {
      return Unsupported(where + ": normalizer type '" + (t ? t->as_string() : std::string("?")) +
                         "' (only BertNormalizer is supported)");
    }
    BertNormalizerOptions o;
    if (const Json* x = norm->Find("clean_text"); x && x->is_bool()) o.clean_text = x->as_bool();
    if (const Json* x = norm->Find("handle_chinese_chars"); x && x->is_bool()) o.handle_chinese_chars = x->as_bool();
    if (const Json* x = norm->Find("lowercase"); x && x->is_bool()) o.lowercase = x->as_bool();
    if (const Json* x = norm->Find("strip_accents"); x && x->is_bool()) o.strip_accents = x->as_bool();
    tok.normalizer_ = BertNormalizer(o);
  }

  // Pre-tokenizer.
  const Json* pre = root.Find("pre_tokenizer");
  const Json* pt = pre ? pre->Find("type") : nullptr;
  if (!pt || pt->as_string() != "BertPreTokenizer") {
    return Unsupported(where + ": pre_tokenizer '" + (pt ? pt->as_string() : std::string("null")) +
                       "' (only BertPreTokenizer is supported)");
  }

  // Added tokens.
  if (const Json* added = root.Find("added_tokens"); added && added->is_array()) {
    for (const Json& t : added->as_array()) {
      AddedToken a;
      EB_ASSIGN_OR_RETURN(a.content, GetString(t, "content", where + " added_tokens"));
      EB_ASSIGN_OR_RETURN(int64_t id, GetInt(t, "id", where + " added_tokens"));
      a.id = static_cast<int32_t>(id);
      EB_RETURN_IF_ERROR(ParseAddedTokenFlags(t, &a, where + " added token '" + a.content + "'"));
      tok.added_tokens_.push_back(std::move(a));
    }
  }

  // Post-processor.
  const Json* post = root.Find("post_processor");
  if (post && !post->is_null()) {
    const std::string type = post->Find("type") ? post->Find("type")->as_string() : "";
    if (type == "TemplateProcessing") {
      const Json* specials = post->Find("special_tokens");
      EB_ASSIGN_OR_RETURN(tok.single_, ParseTemplate(post->Find("single"), specials, where + " post_processor.single"));
      EB_ASSIGN_OR_RETURN(tok.pair_, ParseTemplate(post->Find("pair"), specials, where + " post_processor.pair"));
    } else if (type == "BertProcessing") {
      const Json* sep = post->Find("sep");
      const Json* cls = post->Find("cls");
      if (!sep || !cls || sep->size() != 2 || cls->size() != 2) {
        return InvalidArgument(where + ": BertProcessing needs \"sep\" and \"cls\" as [token, id]");
      }
      tok.single_ = BertTemplate(static_cast<int32_t>((*cls)[1].as_int()), static_cast<int32_t>((*sep)[1].as_int()), false);
      tok.pair_ = BertTemplate(static_cast<int32_t>((*cls)[1].as_int()), static_cast<int32_t>((*sep)[1].as_int()), true);
    } else {
      return Unsupported(where + ": post_processor type '" + type +
                         "' (TemplateProcessing and BertProcessing are supported)");
    }
    tok.has_post_processor_ = true;
  }

  // Truncation / padding defaults stored in the file.
  if (const Json* tr = root.Find("truncation"); tr && tr->is_object()) {
    tok.defaults_.truncation.enabled = true;
    if (const Json* x = tr->Find("max_length")) tok.defaults_.truncation.max_length = static_cast<size_t>(x->as_int(512));
    if (const Json* x = tr->Find("stride")) tok.defaults_.truncation.stride = static_cast<size_t>(x->as_int(0));
    if (const Json* x = tr->Find("strategy"); x && x->is_string()) {
      EB_ASSIGN_OR_RETURN(tok.defaults_.truncation.strategy, ParseStrategy(x->as_string(), where));
    }
    if (const Json* x = tr->Find("direction"); x && x->is_string() && x->as_string() != "Right") {
      return Unsupported(where + ": truncation direction '" + x->as_string() + "' (only Right)");
    }
  }
  if (const Json* pd = root.Find("padding"); pd && pd->is_object()) {
    if (const Json* x = pd->Find("pad_id"); x && x->is_number()) tok.pad_id_ = static_cast<int32_t>(x->as_int());
    if (const Json* x = pd->Find("pad_type_id"); x && x->is_number()) tok.pad_type_id_ = static_cast<int32_t>(x->as_int());
    if (const Json* x = pd->Find("direction"); x && x->is_string() && x->as_string() != "Right") {
      return Unsupported(where + ": padding direction '" + x->as_string() + "' (only Right)");
    }
    const Json* strategy = pd->Find("strategy");
    if (strategy && strategy->is_object() && strategy->Find("Fixed")) {
      tok.defaults_.padding.strategy = PaddingStrategy::kMaxLength;
      tok.defaults_.padding.max_length = static_cast<size_t>(strategy->Find("Fixed")->as_int(0));
    } else {
      tok.defaults_.padding.strategy = PaddingStrategy::kLongest;
    }
    if (const Json* x = pd->Find("pad_to_multiple_of"); x && x->is_number()) {
      tok.defaults_.padding.pad_to_multiple_of = static_cast<size_t>(x->as_int(0));
    }
  }
  if (tok.pad_id_ < 0) {
    // transformers' default pad token for BERT; only used when the caller asks for padding.
    for (const AddedToken& a : tok.added_tokens_) {
      if (a.content == "[PAD]") tok.pad_id_ = a.id;
    }
  }
  EB_RETURN_IF_ERROR(tok.Validate());
  return tok;
}

Result<Tokenizer> Tokenizer::FromVocabFiles(std::string_view vocab_txt,
                                            std::string_view tokenizer_config_json,
                                            std::string_view special_tokens_map_json) {
  // vocab.txt: one token per line, id = line number (transformers' load_vocab strips "\n" only).
  std::vector<std::string> by_id;
  size_t pos = 0;
  while (pos < vocab_txt.size()) {
    size_t nl = vocab_txt.find('\n', pos);
    if (nl == std::string_view::npos) nl = vocab_txt.size();
    by_id.emplace_back(vocab_txt.substr(pos, nl - pos));
    pos = nl + 1;
  }
  Json config, map;
  if (!tokenizer_config_json.empty()) {
    EB_ASSIGN_OR_RETURN(config, ParseJson(tokenizer_config_json, "tokenizer_config.json"));
  }
  if (!special_tokens_map_json.empty()) {
    EB_ASSIGN_OR_RETURN(map, ParseJson(special_tokens_map_json, "special_tokens_map.json"));
  }
  auto special = [&](const char* key, const char* dflt) {
    std::string s = TokenContent(config.Find(key));
    if (s.empty()) s = TokenContent(map.Find(key));
    return s.empty() ? std::string(dflt) : s;
  };
  auto flag = [&](const char* key, bool dflt) {
    const Json* v = config.Find(key);
    return v && v->is_bool() ? v->as_bool() : dflt;
  };
  Tokenizer tok;
  BertNormalizerOptions o;
  o.lowercase = flag("do_lower_case", true);
  o.handle_chinese_chars = flag("tokenize_chinese_chars", true);
  if (const Json* v = config.Find("strip_accents"); v && v->is_bool()) o.strip_accents = v->as_bool();
  tok.normalizer_ = BertNormalizer(o);

  EB_ASSIGN_OR_RETURN(Vocab v, Vocab::Build(by_id, "vocab.txt"));
  WordPieceOptions wpo;
  wpo.unk_token = special("unk_token", "[UNK]");
  EB_ASSIGN_OR_RETURN(tok.model_, WordPiece::Create(std::move(v), wpo));

  // Added tokens: tokenizer_config's added_tokens_decoder, then the named special tokens.
  if (const Json* dec = config.Find("added_tokens_decoder"); dec && dec->is_object()) {
    for (const auto& [id_text, t] : dec->as_object()) {
      AddedToken a;
      a.content = TokenContent(&t);
      char* endp = nullptr;
      const long id = std::strtol(id_text.c_str(), &endp, 10);
      if (id_text.empty() || *endp != '\0' || id < 0) {
        return InvalidArgument("tokenizer_config.json: added_tokens_decoder key '" + id_text + "' is not an id");
      }
      a.id = static_cast<int32_t>(id);
      EB_RETURN_IF_ERROR(ParseAddedTokenFlags(t, &a, "tokenizer_config.json added token '" + a.content + "'"));
      tok.added_tokens_.push_back(std::move(a));
    }
  }
  const char* kNames[][2] = {{"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"},
                             {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}};
  for (const auto& nd : kNames) {
    const std::string content = special(nd[0], nd[1]);
    const bool present = std::any_of(tok.added_tokens_.begin(), tok.added_tokens_.end(),
                                     [&](const AddedToken& a) { return a.content == content; });
    if (present) continue;
    AddedToken a;
    a.content = content;
    a.id = tok.model_.vocab().Find(content);
    if (a.id < 0) {
      return NotFound(std::string("vocab.txt: the ") + nd[0] + " '" + content + "' is not in the vocabulary");
    }
    tok.added_tokens_.push_back(std::move(a));
  }
  const std::string cls = special("cls_token", "[CLS]"), sep = special("sep_token", "[SEP]");
  const int32_t cls_id = tok.model_.vocab().Find(cls), sep_id = tok.model_.vocab().Find(sep);
  if (cls_id < 0 || sep_id < 0) {
    return NotFound("vocab.txt: cls_token '" + cls + "' or sep_token '" + sep + "' is not in the vocabulary");
  }
  tok.single_ = BertTemplate(cls_id, sep_id, false);
  tok.pair_ = BertTemplate(cls_id, sep_id, true);
  tok.has_post_processor_ = true;
  tok.pad_id_ = tok.model_.vocab().Find(special("pad_token", "[PAD]"));
  if (const Json* v = config.Find("model_max_length"); v && v->is_number() && v->as_double() > 0 &&
                                                       v->as_double() < 1e15) {
    tok.model_max_length_ = static_cast<size_t>(v->as_double());
  }
  EB_RETURN_IF_ERROR(tok.Validate());
  return tok;
}

int32_t Tokenizer::TokenToId(std::string_view token) const {
  for (const AddedToken& a : added_tokens_) {
    if (a.content == token) return a.id;
  }
  return model_.vocab().Find(token);
}

std::string_view Tokenizer::IdToToken(int32_t id) const {
  for (const AddedToken& a : added_tokens_) {
    if (a.id == id) return a.content;
  }
  return model_.vocab().Token(id);
}

size_t Tokenizer::NumSpecialTokens(bool pair) const {
  size_t n = 0;
  for (const TemplatePiece& p : pair ? pair_ : single_) n += p.is_sequence ? 0 : p.ids.size();
  return n;
}

Status Tokenizer::EncodeSequence(std::string_view text, int32_t type_id, Encoding* out) const {
  if (text.size() >= std::numeric_limits<uint32_t>::max()) {
    return OutOfRange("text of " + std::to_string(text.size()) + " bytes exceeds the 4 GiB offset range");
  }
  std::vector<NormChar> chars;
  chars.reserve(text.size() + 8);
  std::vector<WordSpan> words;
  std::vector<WordPieceToken> pieces;
  std::string scratch;
  std::vector<uint32_t> byte_to_char;
  out->Reserve(text.size() / 3 + 8);
  int32_t word_index = 0;

  auto emit = [&](int32_t id, uint32_t start, uint32_t end, int32_t word) {
    out->ids.push_back(id);
    out->offsets.push_back({start, end});
    out->word_ids.push_back(word);
  };
  // Pre-tokenize and tokenize normalized characters [cb, ce).
  auto encode_chars = [&](size_t cb, size_t ce) {
    words.clear();
    BertPreTokenize(chars, cb, ce, &words);
    for (const WordSpan& w : words) {
      pieces.clear();
      model_.Tokenize(chars, w, &scratch, &byte_to_char, &pieces);
      for (const WordPieceToken& p : pieces) {
        // HF expand_alignments: start of the first character, end of the last one.
        emit(p.id, chars[p.begin].start, chars[p.end - 1].end, word_index);
      }
      ++word_index;
    }
  };
  std::vector<Match> norm_matches;
  std::string norm_text;
  std::vector<uint32_t> norm_byte_to_char;
  // Normalize text[begin, end) (a piece between raw added tokens), split it on the added tokens
  // that match normalized text, and tokenize the rest.
  auto encode_piece = [&](size_t begin, size_t end) {
    chars.clear();
    normalizer_.Normalize(text, begin, end, &chars);
    if (normalized_added_.empty()) {
      encode_chars(0, chars.size());
      return;
    }
    norm_text.clear();
    norm_byte_to_char.clear();
    for (uint32_t i = 0; i < chars.size(); ++i) {
      AppendUtf8(chars[i].cp, &norm_text);
      norm_byte_to_char.resize(norm_text.size(), i);
    }
    norm_byte_to_char.push_back(static_cast<uint32_t>(chars.size()));
    FindMatches(norm_text, normalized_added_, &norm_matches);
    size_t done = 0;  // characters consumed
    for (const Match& m : norm_matches) {
      const size_t cb = norm_byte_to_char[m.start], ce = norm_byte_to_char[m.stop];
      if (done < cb) encode_chars(done, cb);
      emit(m.id, chars[cb].start, chars[ce - 1].end, word_index++);
      done = ce;
    }
    if (done < chars.size()) encode_chars(done, chars.size());
  };

  // Added tokens matched in the raw text first (HF AddedVocabulary::extract_and_normalize).
  std::vector<Match> matches;
  FindMatches(text, raw_added_, &matches);
  size_t piece_start = 0;
  for (const Match& m : matches) {
    if (piece_start < m.start) encode_piece(piece_start, m.start);
    emit(m.id, static_cast<uint32_t>(m.start), static_cast<uint32_t>(m.stop), word_index++);
    piece_start = m.stop;
  }
  if (piece_start < text.size()) encode_piece(piece_start, text.size());

  const size_t n = out->ids.size();
  out->type_ids.assign(n, type_id);  // HF: the sequence's index in the pair
  out->attention_mask.assign(n, 1);
  out->special_tokens_mask.assign(n, 0);
  out->sequence_ids.assign(n, -1);
  return Status::Ok();
}

Result<Encoding> Tokenizer::PostProcess(Encoding a, Encoding* b, const EncodeOptions& options) const {
  const bool is_pair = b != nullptr;
  const TruncationOptions& tr = options.truncation;
  if (tr.enabled) {
    size_t max_length = tr.max_length;
    const size_t added = has_post_processor_ ? NumSpecialTokens(is_pair) : 0;
    if (options.add_special_tokens && added > 0) {
      if (max_length < added) {
        return InvalidArgument("truncation max_length " + std::to_string(max_length) + " is smaller than the " +
                               std::to_string(added) + " special tokens added to each sequence");
      }
      max_length -= added;
    }
    const size_t total = a.size() + (b ? b->size() : 0);
    // Windows so far (a pair's windows combine: their numbers multiply) and tokens per window.
    size_t windows = 1, window_tokens = added;
    auto truncate = [&](Encoding* e, size_t len) -> Status {
      if (len > 0 && len < e->size() && tr.stride >= len) {
        return InvalidArgument("truncation stride " + std::to_string(tr.stride) +
                               " must be smaller than the tokens left for the sequence (" + std::to_string(len) +
                               "; max_length minus special tokens and the other sequence)");
      }
      // Checked before the windows exist: Truncate(len, stride) makes one per (len - stride) tokens
      // (only the first when the overflow windows are not asked for).
      const size_t n = e->size();
      const size_t w = !tr.return_overflowing || len == 0 || n <= len
                           ? 1 : 1 + (n - len + (len - tr.stride) - 1) / (len - tr.stride);
      window_tokens += len == 0 ? n : std::min(n, len);
      windows = w > kMaxEncodingTokens / windows ? kMaxEncodingTokens + 1 : windows * w;
      if (windows > kMaxEncodingWindows || windows > kMaxEncodingTokens / std::max<size_t>(window_tokens, 1)) {
        return OutOfRange("truncation to max_length " + std::to_string(tr.max_length) + " with stride " +
                          std::to_string(tr.stride) + " would make " + std::to_string(windows) +
                          " windows of up to " + std::to_string(window_tokens) + " tokens; one encoding may hold " +
                          std::to_string(kMaxEncodingWindows) + " windows and " + std::to_string(kMaxEncodingTokens) +
                          " tokens" +
                          (windows > w ? std::string("; a pair where both texts overflow gives every combination of their "
                                                     "windows (as Hugging Face does): truncate one text only "
                                                     "(only_first / only_second),")
                                       : std::string(":")) +
                          " use a smaller stride, a larger max_length or shorter texts");
      }
      e->Truncate(len, tr.stride, tr.return_overflowing);
      return Status::Ok();
    };
    if (max_length == 0) {
      EB_RETURN_IF_ERROR(truncate(&a, 0));
      if (b) EB_RETURN_IF_ERROR(truncate(b, 0));
    } else if (total > max_length) {
      const size_t to_remove = total - max_length;
      if (tr.strategy == TruncationStrategy::kLongestFirst) {
        if (b) {
          size_t n1 = a.size(), n2 = b->size();
          const bool swap = n1 > n2;
          if (swap) std::swap(n1, n2);
          if (n1 > max_length) {
            n2 = n1;
          } else {
            n2 = std::max(n1, max_length - n1);
          }
          if (n1 + n2 > max_length) {
            n1 = max_length / 2;
            n2 = n1 + max_length % 2;
          }
          if (swap) std::swap(n1, n2);
          EB_RETURN_IF_ERROR(truncate(&a, n1));
          EB_RETURN_IF_ERROR(truncate(b, n2));
        } else {
          EB_RETURN_IF_ERROR(truncate(&a, total - to_remove));
        }
      } else {
        Encoding* target = &a;
        if (tr.strategy == TruncationStrategy::kOnlySecond) {
          if (!b) return InvalidArgument("truncation only_second needs a pair of texts");
          target = b;
        }
        if (target->size() <= to_remove) {
          return InvalidArgument(std::string("truncation ") +
                                 (target == &a ? "only_first" : "only_second") + ": the sequence to truncate has " +
                                 std::to_string(target->size()) + " tokens, fewer than the " +
                                 std::to_string(to_remove) + " to remove to fit max_length " +
                                 std::to_string(tr.max_length));
        }
        EB_RETURN_IF_ERROR(truncate(target, target->size() - to_remove));
      }
    }
  }

  if (b && !a.overflowing.empty() && !b->overflowing.empty()) {
    // Both sides overflow: the merge below builds 1 + p + q + 3pq windows of up to max_length
    // tokens each. Refuse before allocating them (quadratic in the texts' lengths).
    const double p = static_cast<double>(a.overflowing.size()), q = static_cast<double>(b->overflowing.size());
    const double windows = 1 + p + q + 3 * p * q;
    const double tokens = windows * static_cast<double>(tr.max_length);
    if (tokens > static_cast<double>(kMaxPairOverflowTokens)) {
      return OutOfRange("truncation with overflowing windows of a pair where both texts overflow gives every "
                        "combination of their windows (as Hugging Face does): " + std::to_string(a.overflowing.size() + 1) +
                        " x " + std::to_string(b->overflowing.size() + 1) + " windows, about " +
                        std::to_string(static_cast<uint64_t>(tokens)) + " tokens, over the limit of " +
                        std::to_string(kMaxPairOverflowTokens) + "; truncate one text only (only_first / "
                        "only_second), use a smaller stride or shorter texts");
    }
  }

  // Post-processor (HF PostProcessor::process + TemplateProcessing::apply_template + merge).
  Encoding* seqs[2] = {&a, b};
  const int n_seqs = is_pair ? 2 : 1;
  for (int i = 0; i < n_seqs; ++i) {
    seqs[i]->SetSequenceId(i);
    for (Encoding& o : seqs[i]->overflowing) o.SetSequenceId(i);
    seqs[i]->SetTypeIds(i);
  }
  Encoding result;
  if (has_post_processor_ && a.overflowing.empty() && (!b || b->overflowing.empty())) {
    // Common case, no windows: build the result in one pass (same output as the merges below).
    size_t n = 0;
    for (const TemplatePiece& p : is_pair ? pair_ : single_) {
      n += p.is_sequence ? seqs[p.sequence] ? seqs[p.sequence]->size() : 0 : p.ids.size();
    }
    result.Reserve(n);
    for (const TemplatePiece& p : is_pair ? pair_ : single_) {
      if (p.is_sequence) {
        const Encoding* e = seqs[p.sequence];
        if (!e) return InvalidArgument("the post-processor template uses sequence B for a single text");
        auto append = [](auto* dst, const auto& src) { dst->insert(dst->end(), src.begin(), src.end()); };
        append(&result.ids, e->ids);
        result.type_ids.insert(result.type_ids.end(), e->size(), p.type_id);
        append(&result.attention_mask, e->attention_mask);
        append(&result.special_tokens_mask, e->special_tokens_mask);
        append(&result.offsets, e->offsets);
        append(&result.word_ids, e->word_ids);
        result.sequence_ids.insert(result.sequence_ids.end(), e->size(), p.sequence);
      } else if (options.add_special_tokens) {
        const size_t k = p.ids.size();
        result.ids.insert(result.ids.end(), p.ids.begin(), p.ids.end());
        result.type_ids.insert(result.type_ids.end(), k, p.type_id);
        result.attention_mask.insert(result.attention_mask.end(), k, 1);
        result.special_tokens_mask.insert(result.special_tokens_mask.end(), k, 1);
        result.offsets.insert(result.offsets.end(), k, TokenOffsets{});
        result.word_ids.insert(result.word_ids.end(), k, -1);
        result.sequence_ids.insert(result.sequence_ids.end(), k, -1);
      }
    }
    return result;
  }
  if (!has_post_processor_) {
    if (!is_pair) return a;
    result.MergeWith(a);
    result.MergeWith(*b);
    return result;
  }
  for (const TemplatePiece& p : is_pair ? pair_ : single_) {
    if (p.is_sequence) {
      Encoding* e = seqs[p.sequence];
      if (!e) return InvalidArgument("the post-processor template uses sequence B for a single text");
      e->SetTypeIds(p.type_id);
      e->SetSequenceId(p.sequence);
      result.MergeWith(*e);
    } else if (options.add_special_tokens) {
      Encoding sp;
      const size_t k = p.ids.size();
      sp.ids = p.ids;
      sp.type_ids.assign(k, p.type_id);
      sp.attention_mask.assign(k, 1);
      sp.special_tokens_mask.assign(k, 1);
      sp.offsets.assign(k, TokenOffsets{});
      sp.word_ids.assign(k, -1);
      sp.sequence_ids.assign(k, -1);
      result.MergeWith(sp);
    }
  }
  return result;
}

Status Tokenizer::Finalize(std::vector<Encoding>* encodings, const EncodeOptions& options) const {
  const PaddingOptions& pd = options.padding;
  if (pd.strategy == PaddingStrategy::kNone) return Status::Ok();
  if (pad_id_ < 0) return NotFound("padding requested but the tokenizer files name no pad token");
  size_t target = pd.max_length;
  if (pd.strategy == PaddingStrategy::kLongest) {
    target = 0;
    for (const Encoding& e : *encodings) target = std::max(target, e.size());
  }
  if (pd.pad_to_multiple_of > 0 && target % pd.pad_to_multiple_of != 0) {
    target += pd.pad_to_multiple_of - target % pd.pad_to_multiple_of;
  }
  // Every window is padded to target: bound the total before allocating (kMaxEncodingTokens).
  size_t windows = 0;
  std::vector<const Encoding*> stack;
  for (const Encoding& e : *encodings) stack.push_back(&e);
  while (!stack.empty()) {
    const Encoding* e = stack.back();
    stack.pop_back();
    ++windows;
    for (const Encoding& o : e->overflowing) stack.push_back(&o);
  }
  if (target > kMaxEncodingTokens / std::max<size_t>(windows, 1)) {
    return OutOfRange("padding " + std::to_string(windows) + " window(s) to " + std::to_string(target) +
                      " tokens is more than the " + std::to_string(kMaxEncodingTokens) +
                      " tokens one encoding may hold");
  }
  for (Encoding& e : *encodings) e.Pad(target, pad_id_, pad_type_id_);
  return Status::Ok();
}

Result<Encoding> Tokenizer::Encode(std::string_view text, const EncodeOptions& options) const {
  Encoding a;
  EB_RETURN_IF_ERROR(EncodeSequence(text, 0, &a));
  std::vector<Encoding> out;
  EB_ASSIGN_OR_RETURN(Encoding e, PostProcess(std::move(a), nullptr, options));
  out.push_back(std::move(e));
  EB_RETURN_IF_ERROR(Finalize(&out, options));
  return std::move(out[0]);
}

Result<Encoding> Tokenizer::EncodePair(std::string_view first, std::string_view second,
                                       const EncodeOptions& options) const {
  Encoding a, b;
  EB_RETURN_IF_ERROR(EncodeSequence(first, 0, &a));
  EB_RETURN_IF_ERROR(EncodeSequence(second, 1, &b));
  std::vector<Encoding> out;
  EB_ASSIGN_OR_RETURN(Encoding e, PostProcess(std::move(a), &b, options));
  out.push_back(std::move(e));
  EB_RETURN_IF_ERROR(Finalize(&out, options));
  return std::move(out[0]);
}

Result<std::vector<Encoding>> Tokenizer::EncodeBatch(const std::vector<std::string_view>& texts,
                                                     const std::vector<std::string_view>& second,
                                                     const EncodeOptions& options) const {
  if (!second.empty() && second.size() != texts.size()) {
    return InvalidArgument("EncodeBatch: " + std::to_string(texts.size()) + " first texts but " +
                           std::to_string(second.size()) + " second texts");
  }
  std::vector<Encoding> out;
  out.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    Encoding a;
    EB_RETURN_IF_ERROR(EncodeSequence(texts[i], 0, &a));
    if (second.empty()) {
      EB_ASSIGN_OR_RETURN(Encoding e, PostProcess(std::move(a), nullptr, options));
      out.push_back(std::move(e));
    } else {
      Encoding b;
      EB_RETURN_IF_ERROR(EncodeSequence(second[i], 1, &b));
      EB_ASSIGN_OR_RETURN(Encoding e, PostProcess(std::move(a), &b, options));
      out.push_back(std::move(e));
    }
  }
  EB_RETURN_IF_ERROR(Finalize(&out, options));
  return out;
}

void ConvertOffsets(std::string_view first, std::string_view second, OffsetUnit unit, Encoding* enc) {
  if (unit == OffsetUnit::kByte) return;
  const Utf8OffsetMap::Unit u = unit == OffsetUnit::kUtf16 ? Utf8OffsetMap::Unit::kUtf16 : Utf8OffsetMap::Unit::kCodePoint;
  const Utf8OffsetMap maps[2] = {Utf8OffsetMap(first, u), Utf8OffsetMap(second, u)};
  auto convert = [&](Encoding* e, auto&& self) -> void {
    for (size_t i = 0; i < e->size(); ++i) {
      const int32_t seq = e->sequence_ids[i];
      if (seq < 0 || seq > 1) continue;
      TokenOffsets& o = e->offsets[i];
      o = TokenOffsets{maps[seq].Convert(o.start), maps[seq].Convert(o.end)};
    }
    for (Encoding& o : e->overflowing) self(&o, self);
  };
  convert(enc, convert);
}

}  // namespace edgebert
