// Package contracttest holds the tests of the generated protocol packages against the schema
// they were generated from: every example round-trips, crafted invalid payloads are refused with
// the right JSON pointer, the generated validators agree with a reference JSON Schema
// implementation, and no input can make a dispatcher panic.
package contracttest
