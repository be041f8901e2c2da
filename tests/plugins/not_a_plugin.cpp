// A shared library that exports no plugin entry.
extern "C" __attribute__((visibility("default"))) int some_function() { return 42; }
