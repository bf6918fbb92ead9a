// main.cc: load a model given on the command line, run one task through edgebert's C++ API and
// print the typed results as JSON (the same JSON `edgebert run ... --offset-unit byte` prints).
//
//   edgebert_example <task> <model> <text> [<question>]
//     task: text-classification | token-classification | question-answering (text = the context,
//           question required) | feature-extraction | sentence-embeddings | fill-mask
//     model: a packed .ebm file or a Hugging Face checkpoint directory
#include <edgebert/edgebert.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// ---- printing: JSON written like the engine writes it, so the two can be compared byte for byte

void PrintString(const std::string& s) {
  std::putchar('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      std::printf("\\%c", c);
    } else if (c == '\n') {
      std::fputs("\\n", stdout);
    } else if (c == '\r') {
      std::fputs("\\r", stdout);
    } else if (c == '\t') {
      std::fputs("\\t", stdout);
    } else if (c < 0x20) {
      std::printf("\\u%04x", c);
    } else {
      std::putchar(c);
    }
  }
  std::putchar('"');
}

// Integers as integers; other numbers with the fewest digits that read back to the same double.
void PrintNumber(double d) {
  if (!std::isfinite(d)) {
    std::fputs("null", stdout);
    return;
  }
  if (std::floor(d) == d && std::fabs(d) < 1e15) {
    std::printf("%lld", static_cast<long long>(d));
    return;
  }
  char buf[32];
  for (int precision = 9; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  std::fputs(buf, stdout);
}

void Key(const char* name, bool first = false) {
  if (!first) std::putchar(',');
  PrintString(name);
  std::putchar(':');
}

template <typename T, typename F>
void PrintList(const std::vector<T>& items, F print_one) {
  std::putchar('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) std::putchar(',');
    print_one(items[i]);
  }
  std::putchar(']');
}

int Fail(const edgebert::Status& status) {
  std::fprintf(stderr, "edgebert_example: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: edgebert_example <task> <model.ebm | checkpoint dir> <text> [<question>]\n");
    return 2;
  }
  const std::string task = argv[1], text = argv[3];

  auto model = edgebert::Pipeline::Load(argv[2]);
  if (!model.ok()) return Fail(model.status());
  std::fprintf(stderr, "edgebert %s: %s (%s, %s)\n", edgebert::Version(), model->Info().architecture.c_str(),
               model->Info().model_type.c_str(), edgebert::QuantizationName(model->Info().quantization));

  if (task == "text-classification") {
    auto labels = model->ClassifyText({text});
    if (!labels.ok()) return Fail(labels.status());
    PrintList(*labels, [](const edgebert::ScoredLabel& l) {
      std::putchar('{');
      Key("label", true), PrintString(l.label);
      Key("score"), PrintNumber(l.score);
      std::putchar('}');
    });
  } else if (task == "token-classification") {
    edgebert::TokenClassificationRequest request;
    request.text = text;
    request.aggregation_strategy = edgebert::Aggregation::kFirst;
    auto entities = model->ClassifyTokens(request);
    if (!entities.ok()) return Fail(entities.status());
    PrintList(*entities, [](const edgebert::EntitySpan& e) {
      std::putchar('{');
      Key("entity_group", true), PrintString(e.entity);
      Key("score"), PrintNumber(e.score);
      Key("word"), PrintString(e.word);
      Key("start"), PrintNumber(static_cast<double>(e.start));  // byte offsets into `text`
      Key("end"), PrintNumber(static_cast<double>(e.end));
      std::putchar('}');
    });
  } else if (task == "question-answering") {
    if (argc != 5) return Fail(edgebert::InvalidArgument("question-answering needs <question> after the context"));
    edgebert::QuestionAnsweringRequest request;
    request.question = argv[4];
    request.context = text;
    auto answers = model->AnswerQuestion(request);
    if (!answers.ok()) return Fail(answers.status());
    PrintList(*answers, [](const edgebert::AnswerSpan& a) {
      std::putchar('{');
      Key("score", true), PrintNumber(a.score);
      Key("start"), PrintNumber(static_cast<double>(a.start));
      Key("end"), PrintNumber(static_cast<double>(a.end));
      Key("answer"), PrintString(a.answer);
      std::putchar('}');
    });
  } else if (task == "feature-extraction" || task == "sentence-embeddings") {
    edgebert::FeatureExtractionRequest request;
    request.text = text;
    if (task == "sentence-embeddings") request = edgebert::FeatureExtractionRequest::SentenceEmbedding(text);
    auto tensor = model->ExtractFeatures(request);
    if (!tensor.ok()) return Fail(tensor.status());
    std::putchar('{');
    Key("dims", true), PrintList(tensor->dims, [](size_t d) { PrintNumber(static_cast<double>(d)); });
    Key("data"), PrintList(tensor->data, [](float x) { PrintNumber(x); });
    std::putchar('}');
  } else if (task == "fill-mask") {
    auto masks = model->FillMask({text});
    if (!masks.ok()) return Fail(masks.status());
    PrintList(*masks, [](const std::vector<edgebert::MaskPrediction>& predictions) {
      PrintList(predictions, [](const edgebert::MaskPrediction& p) {
        std::putchar('{');
        Key("score", true), PrintNumber(p.score);
        Key("token"), PrintNumber(static_cast<double>(p.token));
        Key("token_str"), PrintString(p.token_str);
        Key("sequence"), PrintString(p.sequence);
        std::putchar('}');
      });
    });
  } else {
    return Fail(edgebert::InvalidArgument("unknown task '" + task + "'"));
  }
  std::putchar('\n');
  return 0;
}
