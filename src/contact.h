/*-------------------------------------------------------------------------
 *
 * contact.h
 *	  The contact rules of a rule set applied to one customer's stored contact
 *	  state (src/contact_rules.c), shared by clm.contact_blocks (one customer,
 *	  SQL arguments) and clm.contactable (every customer, src/contact_scan.c).
 *
 * Portions Copyright (c) 2026, clm developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_CONTACT_H
#define CLM_CONTACT_H

#include "fmgr.h"
#include "utils/array.h"
#include "utils/date.h"

/* the longest window and quiet period a rule set may name (clm.contact_rules_check) */
#define CONTACT_MAX_DAYS 3650
#define CONTACT_MAX_CAP 1000000

/*
 * A one-dimensional array, deconstructed (n = 0 for NULL or empty).  size is
 * the room of values and nulls, kept when the array is reused for the next
 * row (clm.contactable unpacks every customer's arrays into the same room).
 */
typedef struct ContactArray
{
	int			n;
	int			size;
	Datum	   *values;
	bool	   *nulls;
} ContactArray;

/* the kinds of message a rule set knows */
typedef enum ContactKind
{
	CONTACT_MESSAGE,
	CONTACT_PROMOTION,
	CONTACT_WINBACK
} ContactKind;

/* A rule set, decomposed and checked; -1 or has_winback false: a rule it lacks. */
typedef struct ContactRules
{
	ContactArray cap_ch;		/* text; NULL element: all channels */
	ContactArray cap_days;		/* int4, 1..CONTACT_MAX_DAYS */
	ContactArray cap_max;		/* int4, 1..CONTACT_MAX_CAP */
	int			quiet;			/* quiet_days_after_purchase */
	int			promo;			/* promotion_quiet_days */
	int			unresp;			/* churned_unresponsive */
	bool		has_winback;
	ContactArray winback;		/* text: the stages a win-back may go to */
} ContactRules;

/* One customer's stored contact state (a row of contact_state). */
typedef struct ContactState
{
	ContactArray days;			/* date, latest first, checked by contact_check_messages */
	ContactArray chans;			/* text, parallel */
	ContactArray resp;			/* bool, parallel */
	const char *stage;			/* NULL: none */
	bool		has_purchase;
	DateADT		last_purchase;
} ContactState;

/* The answer: the first blocking rule's reason (NULL: ok), the last day blocked. */
typedef struct ContactAnswer
{
	char	   *reason;			/* NULL: nothing blocks */
	bool		never;			/* a stage rule blocks */
	DateADT		until;			/* the latest day a time rule stops blocking */
} ContactAnswer;

extern ContactKind contact_kind(const char *fn, const char *kind);
extern int	contact_array_length(const char *fn, const char *what, ArrayType *a, Oid elmtype);
extern void contact_unpack(const char *fn, const char *what, ArrayType *a, Oid elmtype,
						   ContactArray *out, MemoryContext room);
extern void contact_check_caps(const char *fn, ContactRules *rules);
extern void contact_check_messages(const char *fn, const ContactState *st);
extern void contact_array_arg(FunctionCallInfo fcinfo, int argno, Oid elmtype,
							  const char *fn, const char *what, ContactArray *out);
extern void contact_evaluate(const ContactRules *rules, const ContactState *st,
							 const char *channel, ContactKind kind, DateADT at,
							 ContactAnswer *ans, const char *fn);

#endif							/* CLM_CONTACT_H */
