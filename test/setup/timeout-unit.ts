// Unit tests are pure logic, but property tests run thousands of cases: on one loaded CPU 5 s is not enough.
import { jest } from '@jest/globals';

jest.setTimeout(60_000);
