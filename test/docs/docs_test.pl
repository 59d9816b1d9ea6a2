#!/usr/bin/perl
# test/docs/docs_test.pl: runs the SQL examples of README.md and docs/*.md (see
# test/docs/run for how it is called, docs/README.md for the conventions).
#
# For each Markdown file: a fresh database (clm created in it, unless the file
# creates it itself in a ```sql block), then every fenced block in order:
#   ```sql                 run (psql -f, a session of its own); must succeed
#   ```sql norun           not run (also ```sql-norun)
#   ```sql error=SQLSTATE  run; must stop at an error with that SQLSTATE
#   ```sql data            run only when CLM_DATA_DIR holds the reference data
#                          (psql variable :datadir); otherwise skipped
#   ```text                right after a run block (only blank lines between):
#                          the output it must print, as psql prints it; blank
#                          lines and "(N rows)" footers are ignored, trailing
#                          spaces too, and a line "..." matches any lines
# Every run block is one test, and so is each page's check that its relative
# links lead to files; the last line is "N passed, M failed[, K skipped]".
use strict;
use warnings;

my @files = @ARGV ? @ARGV : ('README.md', sort glob('docs/*.md'));
my $datadir = $ENV{CLM_DATA_DIR} // '';
my $have_data = $datadir ne '' && -r "$datadir/CDNOW_sample.txt";
my $verbose = $ENV{DOCS_VERBOSE} // '';
my $tmp = "/tmp/clm-docs-test.$$";
mkdir $tmp or die "cannot create $tmp: $!\n";
chmod 0755, $tmp;
END { local $?; system('rm', '-rf', $tmp) if defined $tmp && -d $tmp; }

# every session: UTC, ISO dates, no pager, no psqlrc; a block stops at its first error
$ENV{PGTZ} = 'UTC';
$ENV{PGDATESTYLE} = 'ISO, MDY';
$ENV{PGOPTIONS} = join(' ', grep { defined && $_ ne '' } $ENV{PGOPTIONS}, '-c statement_timeout=300s');
my @psql = ('psql', '-X', '-q', '-P', 'pager=off', '-v', 'ON_ERROR_STOP=1',
            '-v', 'VERBOSITY=verbose', '-v', 'SHOW_CONTEXT=never',
            '-v', "datadir=$datadir");

my ($passed, $failed, $skipped) = (0, 0, 0);
my @failures;

# run_psql(db, sql file) -> (exit code, stdout, stderr)
sub run_psql {
    my ($db, $file) = @_;
    my $cmd = join(' ', map { shell_quote($_) } @psql, '-d', $db, '-f', $file)
        . " >$tmp/out 2>$tmp/err";
    my $rc = system('/bin/sh', '-c', $cmd) >> 8;
    return ($rc, slurp("$tmp/out"), slurp("$tmp/err"));
}

sub shell_quote { my $s = shift; $s =~ s/'/'\\''/g; return "'$s'"; }

sub slurp {
    my $f = shift;
    open(my $fh, '<', $f) or return '';
    local $/;
    my $s = <$fh>;
    close $fh;
    return $s // '';
}

# admin(sql [, database]): one statement, which must succeed
sub admin {
    my ($sql, $db) = @_;
    my $cmd = join(' ', map { shell_quote($_) } 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
                   '-d', $db // 'postgres', '-c', $sql) . " >$tmp/admin.out 2>&1";
    system('/bin/sh', '-c', $cmd) == 0 or die "failed: $sql\n" . slurp("$tmp/admin.out");
}

# normalise output for comparison: no trailing spaces, no blank lines, no footers
sub norm {
    my @out;
    for my $l (split /\n/, shift) {
        $l =~ s/\s+$//;
        next if $l eq '' || $l =~ /^\(\d+ rows?\)$/;
        push @out, $l;
    }
    return @out;
}

# glob match of line lists: an expected line "..." matches any run of lines
sub lines_match {
    my ($e, $a) = @_;
    my @memo;
    my $m;
    $m = sub {
        my ($i, $j) = @_;
        return $memo[$i][$j] if defined $memo[$i][$j];
        my $r;
        if ($i == @$e) {
            $r = $j == @$a;
        } elsif ($e->[$i] =~ /^\s*\.\.\.$/) {
            $r = $m->($i + 1, $j) || ($j < @$a && $m->($i, $j + 1));
        } else {
            $r = $j < @$a && $e->[$i] eq $a->[$j] && $m->($i + 1, $j + 1);
        }
        return $memo[$i][$j] = $r ? 1 : 0;
    };
    return $m->(0, 0);
}

# parse(file) -> list of blocks {line, lang, words, body, expect, expect_line}
sub parse {
    my $file = shift;
    open(my $fh, '<', $file) or die "cannot read $file: $!\n";
    my @lines = <$fh>;
    close $fh;
    my (@blocks, $cur, $fence, $indent);
    my $last_run;          # the last run block, while only blank lines follow it
    for (my $n = 0; $n < @lines; $n++) {
        my $l = $lines[$n];
        chomp $l;
        if (!defined $cur) {
            if ($l =~ /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*(.*?)\s*$/) {
                ($indent, $fence) = (length $1, $2);
                $cur = { line => $n + 1, lang => $3, words => [split ' ', $4], body => '' };
            } elsif ($l !~ /^\s*$/) {
                undef $last_run;
            }
            next;
        }
        my $f = substr($fence, 0, 1);
        if ($l =~ /^\s*(\Q$f\E{3,})\s*$/ && length($1) >= length($fence)) {
            my $b = $cur;
            undef $cur;
            if ($b->{lang} eq 'text' && $last_run) {
                $last_run->{expect} = $b->{body};
                $last_run->{expect_line} = $b->{line};
                undef $last_run;
                next;
            }
            undef $last_run;
            if ($b->{lang} eq 'sql' || $b->{lang} eq 'sql-norun') {
                $b->{norun} = $b->{lang} eq 'sql-norun' || grep { $_ eq 'norun' } @{$b->{words}};
                ($b->{error}) = map { /^error=(\w{5})$/ ? $1 : () } @{$b->{words}};
                $b->{data} = grep { $_ eq 'data' } @{$b->{words}};
                for my $w (@{$b->{words}}) {
                    die "$file:$b->{line}: unknown word '$w' after ```sql (norun, data, error=SQLSTATE)\n"
                        unless $w =~ /^(norun|data|error=\w{5})$/;
                }
                push @blocks, $b;
                $last_run = $b unless $b->{norun};
            }
            next;
        }
        $l =~ s/^ {0,$indent}//;
        $cur->{body} .= "$l\n";
    }
    die "$file:$cur->{line}: unclosed code block\n" if defined $cur;
    return @blocks;
}

# dead_links(file): relative links [text](path) outside code blocks whose file does not exist
sub dead_links {
    my $file = shift;
    open(my $fh, '<', $file) or return ();
    local $/;
    my $text = <$fh>;
    close $fh;
    $text =~ s/^\s*(`{3,}|~{3,}).*?^\s*\1[`~]*\s*$//msg;    # fenced code
    $text =~ s/`[^`\n]*`//g;                                    # inline code
    (my $dir = $file) =~ s{[^/]*$}{};
    my @dead;
    while ($text =~ /\]\(([^)\s]+)\)/g) {
        my $target = $1;
        next if $target =~ /^(?:[a-z]+:|#)/i;
        $target =~ s/#.*//;
        push @dead, $target unless -e ($dir eq '' ? $target : "$dir$target");
    }
    return @dead;
}

for my $file (@files) {
    # every relative link leads to a file (one test per page)
    my @dead = dead_links($file);
    if (@dead) {
        print "FAILED: $file: links to missing files: @dead\n";
        push @failures, "$file (links)";
        $failed++;
    } else {
        $passed++;
    }
    my @blocks = parse($file);
    my @run = grep { !$_->{norun} } @blocks;
    next unless @run;
    (my $db = "clm_docs_" . lc $file) =~ s/[^a-z0-9_]+/_/g;
    admin(qq{DROP DATABASE IF EXISTS "$db"});
    admin(qq{CREATE DATABASE "$db"});
    my $self_create = grep { $_->{body} =~ /create\s+extension\s+clm\b/i } @run;
    admin('CREATE EXTENSION clm', $db) unless $self_create;
    my ($fp, $ff, $fs) = (0, 0, 0);
    for my $b (@run) {
        my $where = "$file:$b->{line}";
        if ($b->{data} && !$have_data) {
            print "skipped: $where (needs the reference data: set CLM_DATA_DIR)\n";
            $skipped++; $fs++;
            next;
        }
        open(my $fh, '>', "$tmp/block.sql") or die;
        print $fh $b->{body};
        close $fh;
        my ($rc, $out, $err) = run_psql($db, "$tmp/block.sql");
        # the first error: "psql:FILE:LINE: ERROR:  SQLSTATE: message" (VERBOSITY verbose)
        my ($eline, $state, $msg) = $err =~ /^psql:[^:]*:(\d+): ERROR:  (\w{5}): (.*)$/m;
        my @detail = $err =~ /^((?:DETAIL|HINT):  .*)$/mg;
        my $problem;
        if ($rc != 0 && !defined $state) {
            $problem = "psql exited $rc: $err";
        } elsif ($b->{error}) {
            if (!defined $state) {
                $problem = "expected an error $b->{error}, the block succeeded";
            } elsif ($state ne $b->{error}) {
                $problem = "expected an error $b->{error}, got $state at block line $eline: $msg";
            }
        } elsif (defined $state) {
            $problem = "error $state at line " . ($b->{line} + $eline) . ": $msg"
                . (@detail ? "\n  " . join("\n  ", @detail) : '');
        }
        if (!$problem && defined $b->{expect}) {
            my $shown = $out;
            $shown .= "ERROR:  $msg\n" . join('', map { "$_\n" } @detail) if defined $state;
            my @e = norm($b->{expect});
            my @a = norm($shown);
            unless (lines_match(\@e, \@a)) {
                $problem = "output differs from the ```text block at line $b->{expect_line}\n"
                    . "--- expected\n" . join('', map { "  $_\n" } @e)
                    . "--- actual\n" . join('', map { "  $_\n" } @a);
            }
        }
        print $out if $verbose;
        if ($problem) {
            print "FAILED: $where: $problem\n";
            push @failures, $where;
            $failed++; $ff++;
        } else {
            print "ok: $where" . (defined $b->{expect} ? " (output checked)" : "")
                . ($b->{error} ? " (fails with $b->{error} as shown)" : "") . "\n";
            $passed++; $fp++;
        }
    }
    admin(qq{DROP DATABASE "$db"});
    print "== $file: $fp passed, $ff failed" . ($fs ? ", $fs skipped" : "") . "\n";
}

print "FAILED: $_\n" for @failures;
print "$passed passed, $failed failed" . ($skipped ? ", $skipped skipped" : "") . "\n";
exit($failed ? 1 : 0);
