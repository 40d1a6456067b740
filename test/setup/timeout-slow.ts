// Time-outs only bound a failure: generous, so that no test fails because the machine is slow (the suite must pass
// pinned to one CPU with load beside it; Jest's 5 s default failed `cleanup.sh can run again and again` there).
// Jest ignores `testTimeout` set per project, hence this file; a test file's own jest.setTimeout still wins.
import { jest } from '@jest/globals';

jest.setTimeout(300_000);
