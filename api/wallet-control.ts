/**
 * The API's calls to wallet workflows (workflows/wallet.ts): start at creation, then updates that
 * answer once the wallet's ledger is stored. A refusal by the workflow becomes Lago's 422; no answer
 * within the deadline becomes 503 and changes nothing the client was told about.
 */
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { ApiDeps } from './app';
import { ApiError, serviceUnavailable, validationErrors } from './errors';
import { randomUUID } from 'node:crypto';
import { wallets, type WalletDoc, listWallet } from '../src/store/wallets';
import type { CustomerDoc } from '../src/store/customers';
import { Dec, newWallet, type WalletAppliesTo } from '../src/billing';
import { walletWorkflowId } from '../src/temporal/ids';
import type { TopUpRequest, WalletWorkflowInput } from '../src/contracts/wallet-workflow';
import type { walletWorkflow } from '../workflows/wallet';

const UPDATE_TIMEOUT_MS = 30_000;

export async function startWalletWorkflow(
  deps: ApiDeps,
  doc: WalletDoc,
  input: WalletWorkflowInput,
): Promise<void> {
  try {
    await deps.temporal.client.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () =>
      deps.temporal.client.workflow.start<typeof walletWorkflow>('walletWorkflow', {
        workflowId: doc.workflow_id,
        taskQueue: deps.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `Wallet ${doc.name ?? doc._id} of ${doc.external_customer_id} (${doc.currency})`,
      }),
    );
  } catch (err) {
    throw serviceUnavailable(
      'temporal_unavailable',
      `the billing engine did not answer: ${(err as Error).message}`,
    );
  }
}

/** Lago's answer to a workflow's refusal (`ApplicationFailure` type → field and code). */
function refusal(type: string | undefined): ApiError | null {
  if (!type) return null;
  if (type === 'wallet_is_terminated') return validationErrors({ wallet_id: ['wallet_is_terminated'] });
  if (type === 'wallet_transaction_not_found') return validationErrors({ wallet_transaction: ['not_found'] });
  const m = /^(paid|granted|voided)_credits:([a-z_]+)$/.exec(type);
  if (m)
    return validationErrors({
      [`${m[1]}_credits`]: [m[2] === 'invalid_credits' ? `invalid_${m[1]}_credits` : m[2]],
    });
  return null;
}

/** Runs one update on the wallet's workflow (`call`), with Lago's errors and a deadline. */
export async function updateWallet<Ret>(
  deps: ApiDeps,
  wallet: WalletDoc,
  call: (handle: WorkflowHandle<typeof walletWorkflow>) => Promise<Ret>,
): Promise<Ret> {
  try {
    return await deps.temporal.client.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () =>
      call(deps.temporal.client.workflow.getHandle<typeof walletWorkflow>(wallet.workflow_id)),
    );
  } catch (err) {
    const known = refusal((err as { cause?: { type?: string } }).cause?.type);
    if (known) throw known;
    const ended =
      err instanceof WorkflowNotFoundError ||
      /workflow execution already completed/i.test(String((err as Error).message));
    if (ended) throw validationErrors({ wallet_id: ['wallet_is_terminated'] });
    throw serviceUnavailable(
      'temporal_unavailable',
      `the billing engine did not answer: ${(err as Error).message}`,
    );
  }
}

export interface NewWallet {
  organizationId: string;
  customer: Pick<CustomerDoc, '_id' | 'external_id'>;
  currency: string;
  rateAmount: string;
  name: string | null;
  code: string | null;
  priority: number;
  createdAt: number;
  expirationAt: number | null;
  appliesTo: WalletAppliesTo;
  invoiceRequiresSuccessfulPayment: boolean;
  paidTopUpMinAmountCents: number | null;
  paidTopUpMaxAmountCents: number | null;
  /** Credits given at creation: processed by the workflow just after (Lago's create job). */
  initialTopUp: TopUpRequest | null;
  /** Continue-as-new after this many changes (the workflow's default when absent). */
  changesPerRun?: number;
}

/**
 * Creates a wallet (input already validated): its read-model document at a zero balance, then its
 * workflow. If the workflow cannot be started the document is removed again (503, nothing created).
 */
export async function createWallet(
  deps: Pick<ApiDeps, 'db' | 'temporal' | 'taskQueue'>,
  fields: NewWallet,
): Promise<WalletDoc> {
  const id = randomUUID();
  const wallet = newWallet({
    code: id,
    name: fields.name,
    lagoId: id,
    currency: fields.currency,
    rateAmount: new Dec(fields.rateAmount).toFixed(),
    priority: fields.priority,
    createdAt: fields.createdAt,
    expirationAt: fields.expirationAt,
    appliesTo: fields.appliesTo,
  });
  const doc: WalletDoc = {
    _id: id,
    organization_id: fields.organizationId,
    customer_id: fields.customer._id,
    external_customer_id: fields.customer.external_id,
    workflow_id: walletWorkflowId(fields.organizationId, id),
    code: fields.code,
    name: wallet.name,
    status: 'active',
    currency: wallet.currency,
    rate_amount: wallet.rateAmount,
    priority: wallet.priority,
    credits_balance: '0',
    balance_cents: 0,
    consumed_credits: '0',
    created_at: new Date(fields.createdAt),
    updated_at: new Date(fields.createdAt),
    expiration_at: fields.expirationAt === null ? null : new Date(fields.expirationAt),
    terminated_at: null,
    last_balance_sync_at: null,
    last_consumed_credit_at: null,
    invoice_requires_successful_payment: fields.invoiceRequiresSuccessfulPayment,
    paid_top_up_min_amount_cents: fields.paidTopUpMinAmountCents,
    paid_top_up_max_amount_cents: fields.paidTopUpMaxAmountCents,
    applies_to: {
      fee_types: fields.appliesTo.feeTypes,
      billable_metric_codes: fields.appliesTo.billableMetricCodes,
    },
    version: 0,
  };
  await listWallet(deps.db, doc);
  await wallets(deps.db).insertOne(doc);
  try {
    await startWalletWorkflow(deps, doc, {
      wallet: {
        id,
        organization_id: fields.organizationId,
        customer_id: fields.customer._id,
        external_customer_id: fields.customer.external_id,
        code: fields.code,
        invoice_requires_successful_payment: fields.invoiceRequiresSuccessfulPayment,
        paid_top_up_min_amount_cents: fields.paidTopUpMinAmountCents,
        paid_top_up_max_amount_cents: fields.paidTopUpMaxAmountCents,
        last_balance_sync_at: null,
        last_consumed_credit_at: null,
        wallet,
      },
      pending: [],
      consumed: [],
      initial_top_up: fields.initialTopUp,
      announced: false,
      ...(fields.changesPerRun ? { changes_per_run: fields.changesPerRun } : {}),
    });
  } catch (err) {
    await wallets(deps.db).deleteOne({ _id: id, version: 0 });
    throw err;
  }
  return doc;
}
