# The training run of the profile-guided build (CMakeLists.txt, TA_PGO):
# writes small inputs of every shape the benchmark measures with trace-gen,
# runs the instrumented program over them in the modes users run (threads,
# one thread, --follow, each output format, OTLP, the samples), then puts
# the counts where the optimised build's compiler looks for them.
#
# cmake -DTRAIN=<instrumented program> -DGEN=<trace-gen> -DDIR=<profile dir>
#       -DSOURCE=<source dir> -P pgo_train.cmake
#
# A run that fails leaves the build as it is without a profile (the
# optimised objects are compiled with -Wno-missing-profile): it is said,
# not fatal.
cmake_minimum_required(VERSION 3.20)

set(raw "${DIR}/raw")
set(use "${DIR}/use")
set(inputs "${DIR}/inputs")
file(REMOVE_RECURSE "${raw}" "${use}")
file(MAKE_DIRECTORY "${raw}" "${use}" "${inputs}")

# name | trace-gen arguments (4 MiB each: the counts are ratios, and the
# threaded reading starts at 4 MiB)
set(shapes
  "default|--seed 11"
  "host200|--seed 12 --host-only --hosts 200"
  "host20k|--seed 13 --host-only --hosts 20000"
  "decimal|--seed 14 --host-only --ids decimal --hosts 2000"
  "uuid|--seed 15 --host-only --ids uuid --hosts 200"
  "w3c|--seed 16 --host-only --ids w3c --hosts 200"
  "prefixed|--seed 17 --host-only --ids prefixed --hosts 200"
  "short|--seed 18 --ids short"
  "micros|--seed 19 --host-only --hosts 200 --time-unit us"
  "otlp|--seed 20 --format otlp")

set(failed "")
function(run_train)
  cmake_parse_arguments(R "" "INPUT" "ARGS" ${ARGN})
  if(R_INPUT)
    execute_process(COMMAND "${TRAIN}" ${R_ARGS} INPUT_FILE "${R_INPUT}" OUTPUT_QUIET ERROR_QUIET
                    RESULT_VARIABLE rc WORKING_DIRECTORY "${DIR}")
  else()
    execute_process(COMMAND "${TRAIN}" ${R_ARGS} OUTPUT_QUIET ERROR_QUIET RESULT_VARIABLE rc
                    WORKING_DIRECTORY "${DIR}")
  endif()
  # 0, or 1 when anomalies are asked to fail the run; anything else (a
  # crash, a refused argument) is a failed training run.
  if(NOT rc MATCHES "^[01]$")
    set(failed "${failed} '${R_ARGS}' (${rc})" PARENT_SCOPE)
  endif()
endfunction()

# Writes ${inputs}/<name>.jsonl with trace-gen (once: kept between builds);
# sets gen_failed when trace-gen fails.
set(gen_failed FALSE)
function(generate name spelled)
  separate_arguments(args UNIX_COMMAND "${spelled}")
  set(out "${inputs}/${name}.jsonl")
  if(EXISTS "${out}")
    return()
  endif()
  execute_process(COMMAND "${GEN}" ${args} --out "${out}.part" RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(WARNING "profile training: trace-gen ${spelled} failed (${rc}); the build goes on without a profile")
    set(gen_failed TRUE PARENT_SCOPE)
    return()
  endif()
  file(RENAME "${out}.part" "${out}")
endfunction()

set(files "")
foreach(shape IN LISTS shapes)
  string(REPLACE "|" ";" parts "${shape}")
  list(GET parts 0 name)
  list(GET parts 1 spelled)
  generate(${name} "--size 4200K ${spelled}")
  if(gen_failed)
    return()
  endif()
  list(APPEND files "${inputs}/${name}.jsonl")
endforeach()

# A batch run writes its counts as it exits (an exit handler): one that
# ended past the handlers would write none, and the profile would hold only
# the other runs. The first run is checked for them.
list(GET files 0 first_file)
run_train(ARGS "${first_file}")
file(GLOB batch_counts "${raw}/*.gcda")
if(NOT batch_counts)
  message(WARNING "profile training: a batch run (${TRAIN} ${first_file}) wrote no counts; the build goes on "
                  "without a profile")
  return()
endif()

foreach(f IN LISTS files)
  run_train(ARGS --threads 2 "${f}")
  run_train(ARGS --threads 1 --format json "${f}")
endforeach()

# A fleet's caller -> callee pairs are listed and settled (analyze/summary.cpp,
# PairMap::settle) only past 65,536 calls a thread, more than the small
# inputs have: without this run, the branches for them in functions the
# other runs do reach (the walk across the threads' settled tables) are
# laid out as never taken, for size. Big enough for each of two threads to
# list, settle and walk its pairs.
generate(fleet "--size 56M --seed 21 --host-only --hosts 20000")
if(gen_failed)
  return()
endif()
set(fleet "${inputs}/fleet.jsonl")
run_train(ARGS --threads 2 "${fleet}")
list(GET files 0 default_file)
list(GET files 1 host200_file)
list(GET files 2 host20k_file)
run_train(ARGS --threads 2 --format markdown "${default_file}" "${host200_file}")
run_train(ARGS --follow "-" INPUT "${default_file}")
run_train(ARGS --follow --format json "-" INPUT "${host20k_file}")
file(GLOB samples "${SOURCE}/samples/*")
foreach(f IN LISTS samples)
  run_train(ARGS "${f}")
endforeach()

if(failed)
  message(WARNING "profile training: runs failed:${failed}; the build goes on without a profile")
  return()
endif()

# The counts are named after the instrumented objects' paths (/ as #): they
# become the optimised objects' names.
file(GLOB counts RELATIVE "${raw}" "${raw}/*.gcda")
foreach(c IN LISTS counts)
  string(REPLACE "_train.dir#" ".dir#" to "${c}")
  string(REPLACE "-train.dir#" ".dir#" to "${to}")
  file(COPY_FILE "${raw}/${c}" "${use}/${to}")
  # The same counts for the AVX-512 program's objects (CMakeLists.txt).
  string(REPLACE "#trace_assemble_core_v3.dir#" "#trace_assemble_core_avx512.dir#" to512 "${to}")
  string(REPLACE "#trace-assemble.dir#" "#trace-assemble-avx512.dir#" to512 "${to512}")
  if(NOT to512 STREQUAL to)
    file(COPY_FILE "${raw}/${c}" "${use}/${to512}")
  endif()
endforeach()
list(LENGTH counts n)
if(n EQUAL 0)
  message(WARNING "profile training: the runs wrote no counts; the build goes on without a profile")
  return()
endif()
message(STATUS "profile training: ${n} count files")
