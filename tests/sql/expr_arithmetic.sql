-- requires: shard
-- Arithmetic with Python semantics (engine.md §3.6): integers stay integers, `/` is always a
-- float, floor division and modulo follow the divisor's sign, booleans count as integers, strings
-- and lists repeat and concatenate; errors for undefined, null, mixed types and zero divisors.
BEGIN;
\ir expr_nodes.psql
SELECT plan(34);

SELECT is(ev(bin(j('2'), '+', j('3'))), '5', 'int + int is an int');
SELECT is(ev(bin(j('2'), '+', j('0.5'))), '2.5', 'int + float is a float');
SELECT is(ev(bin(j('0.1'), '+', j('0.2'))), '0.30000000000000004', 'float addition is IEEE');
SELECT is(ev(bin(j('true'), '+', j('1'))), '2', 'true + 1 = 2');
SELECT is(ev(bin(j('"ab"'), '+', j('"cd"'))), '"abcd"', 'string + string');
SELECT is(ev(bin(j('[1]'), '+', j('[2]'))), '[1, 2]', 'list + list');
SELECT is(ev(bin(j('6'), '/', j('2'))), '3.0', 'EC-10: 6 / 2 is the float 3.0');
SELECT is(txt(bin(j('1'), '/', j('3'))), '0.3333333333333333', '1 / 3');
SELECT is(ev(bin(j('7'), '//', j('2'))), '3', '7 // 2 = 3');
SELECT is(ev(bin(j('-7'), '//', j('2'))), '-4', '-7 // 2 = -4 (floor)');
SELECT is(ev(bin(j('7.0'), '//', j('2'))), '3.0', '7.0 // 2 = 3.0');
SELECT is(ev(bin(j('-2.5'), '//', j('1'))), '-3.0', '-2.5 // 1 = -3.0');
SELECT is(ev(bin(j('5.5'), '//', j('-2'))), '-3.0', '5.5 // -2 = -3.0');
SELECT is(ev(bin(j('-7'), '%', j('3'))), '2', '-7 % 3 = 2');
SELECT is(ev(bin(j('7'), '%', j('-3'))), '-2', '7 % -3 = -2');
SELECT is(ev(bin(j('-2.5'), '%', j('1'))), '0.5', '-2.5 % 1 = 0.5');
SELECT is(txt(bin(j('0.1'), '%', j('0.03'))), '0.010000000000000009', 'float % works on the exact binary values');
SELECT is(ev(bin(j('2'), '**', j('10'))), '1024', '2 ** 10 = 1024');
SELECT is(ev(bin(j('2'), '**', j('-1'))), '0.5', '2 ** -1 = 0.5');
SELECT is(ev(bin(j('-8'), '**', j('3'))), '-512', '(-8) ** 3');
SELECT is(ev(bin(j('100000000000000000000'), '//', j('7'))), '14285714285714285714', 'integers are exact beyond 64 bits');
SELECT is(ev(neg(j('true'))), '-1', '-true = -1');
SELECT is(ev(pos(j('false'))), '0', '+false = 0');
SELECT is(ev(bin(j('3'), '*', j('"ab"'))), '"ababab"', 'int * string repeats');
SELECT is(ev(bin(j('"ab"'), '*', j('-2'))), '""', 'a count <= 0 gives the empty string');
SELECT is(ev(bin(j('[1, 2]'), '*', j('2'))), '[1, 2, 1, 2]', 'list * int repeats');
SELECT is(err(bin(j('1'), '/', j('0'))), '''/'': division by zero', 'division by zero is an error');
SELECT ok(fails(bin(j('1.5'), '%', j('0.0'))), 'float modulo by zero is an error');
SELECT ok(fails(bin(nm('x'), '+', j('1'))), 'an undefined operand is an error');
SELECT ok(fails(bin(j('null'), '+', j('1'))), 'a null operand is an error');
SELECT ok(fails(bin(j('"a"'), '+', j('1'))), 'string + int is an error');
SELECT ok(fails(bin(j('0'), '**', j('-1'))), '0 ** -1 is an error');
SELECT ok(fails(bin(j('-8.0'), '**', j('0.5'))), 'a negative base with a fractional exponent is an error');
SELECT is(err(bin(j('"%s"'), '%', j('1'))), '''%'': string formatting is not supported', 'printf formatting is an error (deviation 6)');

SELECT * FROM finish();
ROLLBACK;
