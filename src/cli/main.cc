// main.cc: the `edgebert` command-line tool.
#include <cstdio>
#include <cstring>

#include "edgebert.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "version") == 0) {
    std::printf("edgebert %s\n", edgebert::Version());
    return 0;
  }
  std::fprintf(stderr, "usage: edgebert version\n");
  return 2;
}
