// quickstart.cc: the docs/CPP_API.md quick start: load a model, find entities, print them with their
// byte offsets, and show that an error is a Status.
#include <edgebert/edgebert.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  // A packed .ebm file or a Hugging Face checkpoint directory.
  auto model = edgebert::Pipeline::Load(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  std::printf("%s, tasks:", model->Info().architecture.c_str());
  for (const std::string& t : model->Info().tasks) std::printf(" %s", t.c_str());
  std::printf("\n");

  edgebert::TokenClassificationRequest request;
  request.text = "Zoë met José in São Paulo";
  request.aggregation_strategy = edgebert::Aggregation::kFirst;
  auto entities = model->ClassifyTokens(request);
  if (!entities.ok()) {
    std::fprintf(stderr, "%s\n", entities.status().ToString().c_str());
    return 1;
  }
  for (const edgebert::EntitySpan& e : *entities) {
    // start/end are byte offsets into request.text.
    std::string span = request.text.substr(e.start, e.end - e.start);
    std::printf("%-4s %.4f  bytes [%zu, %zu)  \"%s\"  word \"%s\"\n", e.entity.c_str(), e.score, e.start, e.end,
                span.c_str(), e.word.c_str());
  }

  // An error is a Status, not an exception: this model has no question-answering head.
  auto answer = model->AnswerQuestion({"Who?", "Zoë."});
  if (!answer.ok()) std::printf("%s\n", answer.status().ToString().c_str());
  return 0;
}
