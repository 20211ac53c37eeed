// Stands in for one of the two builds the portable front runs
// (src/launch.cpp): says which it is and the arguments it was given.
#include <cstdio>

int main(int argc, char** argv) {
  std::printf("%s", TA_STUB);
  for (int i = 1; i < argc; ++i) std::printf("|%s", argv[i]);
  std::printf("\n");
}
