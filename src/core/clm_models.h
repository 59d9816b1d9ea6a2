/*-------------------------------------------------------------------------
 *
 * clm_models.h
 *	  Plain-C numerical core of the clm CLV and churn models.
 *
 * No PostgreSQL headers: this file and the src/core C files that
 * implement it are compiled both into clm.so and into the C unit tests.
 *
 * All models are fitted on a weighted list of distinct input tuples (a
 * histogram): each clm_obs carries up to three numbers and a weight (the
 * number of customers with exactly that tuple).  The meaning of v[] per
 * model kind:
 *
 *	 BG/NBD, MBG/NBD, Pareto/NBD	v = (x, t_x, T)		continuous time
 *	 Gamma-Gamma					v = (x, zbar, 0)	x > 0 repeat purchases
 *	 BG/BB							v = (x, t_x, n)		discrete opportunities
 *	 sBG							v = (t, churned, 0) t periods; churned 0/1
 *
 * Parameters are optimised on the log scale; every log-likelihood returns
 * the total weighted log-likelihood and its gradient with respect to the
 * log-parameters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLM_MODELS_H
#define CLM_MODELS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Supplied by whoever links the core (the PostgreSQL glue, the unit
 * tests).  clm_core_check_interrupts is called by every loop that can run
 * long (optimiser iterations and line searches, every CLM_INTERRUPT_EVERY
 * tuples of a likelihood, quadrature panels, series terms); the glue
 * implements it with CHECK_FOR_INTERRUPTS, which may not return (a cancel
 * unwinds by longjmp), so the core keeps no memory of its own across a
 * call: what it needs beyond the stack it takes from clm_core_alloc, which
 * the glue implements with palloc (freed with the memory context when an
 * error unwinds).  clm_core_alloc returns NULL when it cannot allocate.
 */
extern void clm_core_check_interrupts(void);
extern void *clm_core_alloc(size_t size);
extern void clm_core_free(void *p);

/* a likelihood checks for interrupts once every this many tuples */
#define CLM_INTERRUPT_EVERY 256

#define CLM_MAX_PAR 4
/* most unknowns of a fit: parameters and covariate effects (clm_cov.h) */
#define CLM_OPT_MAX_N 24
/*
 * The correlations of a model's parameters (of their logs, which is the same
 * to first order): the upper triangle of the matrix by rows, (0,1), (0,2),
 * ..., (1,2), ...; CLM_CORR_INDEX(i, j) for i < j < CLM_MAX_PAR.
 */
#define CLM_NCORR (CLM_MAX_PAR * (CLM_MAX_PAR - 1) / 2)
#define CLM_CORR_INDEX(i, j) \
	((i) * (2 * CLM_MAX_PAR - (i) - 1) / 2 + (j) - (i) - 1)

typedef enum clm_model_kind
{
	CLM_KIND_NONE = 0,
	CLM_KIND_BGNBD = 1,
	CLM_KIND_MBGNBD = 2,
	CLM_KIND_PARETONBD = 3,
	CLM_KIND_GG = 4,
	CLM_KIND_BGBB = 5,
	CLM_KIND_SBG = 6
} clm_model_kind;

#define CLM_KIND_MAX 6

typedef struct clm_obs
{
	double		v[3];
	double		w;
} clm_obs;

/* log-likelihood with gradient wrt log-parameters (grad may be NULL) */
typedef double (*clm_ll_fn) (const double *logpar, const clm_obs *obs,
							 int n, double *grad);

typedef struct clm_fit_result
{
	int			kind;
	int			npar;
	double		par[CLM_MAX_PAR];
	double		se[CLM_MAX_PAR];	/* < 0 when not available */
	/* correlations of the parameters (CLM_CORR_INDEX), NaN when not available */
	double		corr[CLM_NCORR];
	double		ll;
	double		n_customers;	/* sum of weights */
	int			n_distinct;		/* distinct tuples */
	bool		converged;
	int			iterations;
	char		message[64];
} clm_fit_result;

/*
 * One entry per model kind: everything the fit driver and the prediction
 * dispatcher need to know about it.  A new model is one src/core file that
 * defines its clm_model_def plus one line in the kind table of
 * clm_models.c (and a new clm_model_kind number: kinds are stored in model
 * values, so a number is never reused).  A prediction pointer that is NULL
 * means the prediction does not apply to the kind.
 */
typedef struct clm_model_def
{
	const char *name;			/* short name, as in the model's text form */
	int			npar;
	const char *par_names[CLM_MAX_PAR];
	clm_ll_fn	ll;
	/* one input tuple: NULL when fine, else a lower-case message */
	const char *(*check) (const double *v);
	/* inputs of (x, t_x, T) in continuous time (x = t_x = T = 0 predictable) */
	bool		continuous;
	/* beyond the counts: can the data identify the model?  NULL or a message */
	const char *(*identify) (const clm_obs *obs, int n, const char **hint);
	/* start points on the log scale beyond starts[0] = 0: returns how many in all */
	int			(*starts) (const clm_obs *obs, int n, double starts[][CLM_MAX_PAR]);
	/* warm start from a subsample on large histograms */
	bool		warm_start;
	/* predictions */
	double		(*p_alive) (const double *par, double x, double t_x, double T);
	/* 1 - P(alive) without cancellation (NULL: 1 - p_alive has none to speak of) */
	double		(*churn) (const double *par, double x, double t_x, double T);
	double		(*expected) (const double *par, double t, double x, double t_x, double T);
	double		(*p_k) (const double *par, int k, double t, double x, double t_x, double T);
	double		(*p_none) (const double *par, double t, double x, double t_x, double T);
	/* purchases of the next horizon periods, the k-th discounted by (1+disc)^-k */
	double		(*discounted) (const double *par, double disc, int horizon,
							   double x, double t_x, double T);
	double		(*spend) (const double *par, double x, double zbar);
	double		(*survival) (const double *par, double t);
	double		(*dert) (const double *par, double delta, double x, double t_x, double T);
	/* purchases at a Poisson rate lambda ~ Gamma(par[0], par[1]) while alive */
	bool		gamma_rate;
	/* expected purchases in (0, t] of a customer just acquired */
	double		(*new_customer) (const double *par, double t);
} clm_model_def;

/* the entries (one per model file) and the lookup by kind (NULL if unknown) */
extern const clm_model_def clm_model_bgnbd;
extern const clm_model_def clm_model_mbgnbd;
extern const clm_model_def clm_model_paretonbd;
extern const clm_model_def clm_model_gg;
extern const clm_model_def clm_model_bgbb;
extern const clm_model_def clm_model_sbg;
extern const clm_model_def *clm_model_get_def(int kind);

/* shared by the models on (x, t_x, T): checks, identification, start points */
extern const char *clm_check_xtT(const double *v);
extern const char *clm_identify_repeat(const clm_obs *obs, int n, const char **hint);
extern void clm_starts_xtT(const clm_obs *obs, int n, double starts[][CLM_MAX_PAR]);

/* model descriptions */
extern const char *clm_kind_name(int kind);
extern int	clm_kind_from_name(const char *name);
extern int	clm_kind_npar(int kind);
extern const char *clm_kind_par_name(int kind, int i);
extern clm_ll_fn clm_kind_ll(int kind);

/* input validation: NULL when fine, else a lower-case message */
extern const char *clm_obs_check(int kind, const double *v);

/*
 * Fit: returns NULL on success (result filled; result->converged tells
 * whether the optimiser converged), or an error message when the data
 * cannot identify the model (*hint receives a hint).
 */
extern const char *clm_fit(int kind, const clm_obs *obs, int n,
						   clm_fit_result *result, const char **hint);

/* special functions and helpers (clm_special.c) */
extern double clm_digamma(double x);
extern double clm_lbeta(double a, double b);
extern double clm_logsumexp2(double a, double b);
extern double clm_beta_inc(double a, double b, double x);
extern void clm_gauss_legendre16(const double **x, const double **w);
typedef void (*clm_vec_fn) (double t, double *out, void *ctx);
extern double clm_quad_geometric(clm_vec_fn f, void *ctx, int nf,
								 double lo, double hi, double h0,
								 double *out);

/* optimiser (clm_optim.c) */
typedef double (*clm_obj_fn) (const double *theta, double *grad, void *ctx);
typedef struct clm_optim_result
{
	double		f;
	bool		converged;
	int			iterations;
	const char *reason;
} clm_optim_result;
extern void clm_bfgs(clm_obj_fn f, void *ctx, int n, double *theta,
					 int maxit, clm_optim_result *res);
extern void clm_nelder_mead(clm_obj_fn f, void *ctx, int n, double *theta,
							int maxit, clm_optim_result *res);
extern int	clm_newton_polish(clm_obj_fn f, void *ctx, int n, double *theta,
							  int maxit, double *hess_out, bool *have_hess);
extern bool clm_hessian_cov(clm_obj_fn f, void *ctx, int n,
							const double *theta, double *cov);
extern bool clm_cov_from_hessian(int n, const double *H, double scale,
								 double *cov);
extern bool clm_se_from_hessian(int n, const double *H, double scale,
								double *se_log);

/* log-likelihoods (gradient wrt log-parameters) */
extern double clm_bgnbd_ll(const double *lp, const clm_obs *o, int n, double *g);
extern double clm_mbgnbd_ll(const double *lp, const clm_obs *o, int n, double *g);
extern double clm_paretonbd_ll(const double *lp, const clm_obs *o, int n, double *g);
extern double clm_gg_ll(const double *lp, const clm_obs *o, int n, double *g);
extern double clm_bgbb_ll(const double *lp, const clm_obs *o, int n, double *g);
extern double clm_sbg_ll(const double *lp, const clm_obs *o, int n, double *g);

/*
 * Pareto/NBD: log of I = int_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du
 * and its derivatives wrt (r, alpha, s, beta).  method 0: series where it
 * converges fast, else quadrature; 1: series only (returns NAN when it does
 * not converge fast); 2: quadrature only.
 */
extern double clm_paretonbd_log_i(const double *par, double x, double t_x,
								  double T, int method, double *dlog,
								  bool *by_series);

/* internal: BG/NBD (m = 0) and MBG/NBD (m = 1) predictions */
extern double clm_bg_p_alive(int m, const double *par, double x, double t_x, double T);
extern double clm_bg_churn(int m, const double *par, double x, double t_x, double T);
extern double clm_bg_expected(int m, const double *par, double t, double x,
							  double t_x, double T);
extern double clm_bg_expected_given_alive(int m, const double *par, double t,
										  double x, double T, int method);
extern double clm_bg_discounted(int m, const double *par, double disc, int horizon,
								double x, double t_x, double T);
extern double clm_bg_discounted_given_alive(int m, const double *par, double disc,
											int horizon, double x, double T);
extern double clm_bg_p_k(int m, const double *par, int k, double t, double x,
						 double t_x, double T);

/*
 * Predictions.  Every function returns a finite number for valid inputs;
 * they return NAN only when the model kind does not apply (callers check
 * clm_predict_applies first).  t, x, t_x, T are in the time unit of the fit.
 */
typedef enum clm_prediction
{
	CLM_PRED_P_ALIVE,
	CLM_PRED_EXPECTED,
	CLM_PRED_P_N,
	CLM_PRED_P_NONE,
	CLM_PRED_SPEND,
	CLM_PRED_CLV,
	CLM_PRED_SURVIVAL,
	CLM_PRED_DERT,
	CLM_PRED_NEXT,
	CLM_PRED_NEW_CUSTOMER
} clm_prediction;
extern bool clm_predict_applies(int kind, clm_prediction what);

extern double clm_p_alive(int kind, const double *par, double x, double t_x, double T);
extern double clm_churn_probability(int kind, const double *par, double x,
									double t_x, double T);
extern double clm_expected_purchases(int kind, const double *par, double t,
									 double x, double t_x, double T);
extern double clm_p_purchases(int kind, const double *par, int k, double t,
							  double x, double t_x, double T);
extern double clm_p_no_purchase(int kind, const double *par, double t,
								double x, double t_x, double T);
extern double clm_expected_spend(const double *par, double x, double zbar);
extern double clm_clv(int kind, const double *par, double spend, double margin,
					  double discount, int horizon, double x, double t_x, double T);
extern double clm_sbg_survival(const double *par, double t);
extern double clm_sbg_retention(const double *par, double t);
extern double clm_paretonbd_dert(const double *par, double delta,
								 double x, double t_x, double T);
extern double clm_paretonbd_p_within(const double *par, double t,
									 double x, double t_x, double T);

/*
 * Next purchase and new customers (clm_next.c): models with a Gamma(r,
 * alpha) purchase rate (clm_predict_applies(kind, CLM_PRED_NEXT)).  Times
 * in the time unit of the fit; an infinite mean is INFINITY.
 */
typedef struct clm_next_purchase_result
{
	double		p_alive;
	double		p_within;		/* P(at least one purchase in the next N) */
	double		median_wait;	/* given alive (and staying alive) */
	double		mean_wait;
	double		mean_interval;	/* (alpha + T) / (r + x) */
	double		own_interval;	/* T / x */
	double		population_interval;	/* alpha / r */
	double		own_weight;		/* T / (alpha + T) */
} clm_next_purchase_result;
extern void clm_next_purchase(int kind, const double *par, double N, double x,
							  double t_x, double T, clm_next_purchase_result *out);
extern double clm_new_customer_expected(int kind, const double *par, double t);

#endif							/* CLM_MODELS_H */
