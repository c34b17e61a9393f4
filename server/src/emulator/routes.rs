//! The emulator's HTTP side: the bank's API handlers, the mock "customer pays" and decline calls,
//! the fault controls, and the middleware that injects latency, 5xx, hangs and malformed answers.

use super::*;

pub(super) fn not_authorised() -> Response {
    (StatusCode::UNAUTHORIZED, "").into_response()
}

fn not_found_qr() -> Response {
    bank_error(
        StatusCode::NOT_FOUND,
        "ERROR.NOT_FOUND",
        "QR-код не найден у данного партнера",
    )
}

fn invalid(message: &str) -> Response {
    bank_error(StatusCode::BAD_REQUEST, "ERROR.INVALID_REQUEST", message)
}

async fn register(bank: &Bank, body: &[u8], v2: bool) -> Response {
    let Ok(req) = serde_json::from_slice::<RaiffeisenRegisterQrRequest>(body) else {
        return invalid("Не передан обязательный параметр");
    };
    let bad = |code: &str, message: String| bank_error(StatusCode::BAD_REQUEST, code, message);
    if req.account.is_some() {
        return bad(
            "ERROR.ACCOUNT_IS_NOT_REGISTERED",
            "Указан неверный счет. Проверьте его или удалите. Параметр является необязательным"
                .into(),
        );
    }
    let merchant = req.sbp_merchant_id.as_deref().unwrap_or("").trim();
    if merchant.is_empty() {
        return bad(
            "ERROR.SBP_MERCHANT_ID_IS_MISSING",
            "SbpMerchantId партнера не указан".into(),
        );
    }
    if merchant != bank.merchant_id {
        return bad(
            "ERROR.MERCHANT_NOT_REGISTERED",
            format!("Партнер с ID {merchant} не зарегистрирован"),
        );
    }
    if req.qr_type == RaiffeisenQrType::QrVariable {
        return cash_link::register_variable(bank, v2);
    }
    let Some(order) = req.order.clone() else {
        return invalid("Не передан обязательный параметр");
    };
    if !valid_order(&order) {
        return bad(
            "ERROR.INVALID_ORDER",
            "В номере заказа поддерживаются A-z09_-.".into(),
        );
    }
    let kopecks = match (&req.amount, req.qr_type) {
        (None, RaiffeisenQrType::QrDynamic) => {
            return bad(
                "ERROR.DYNAMIC_QR_WITHOUT_AMOUNT",
                "Не передана сумма для динамического QR-кода".into(),
            );
        }
        (None, RaiffeisenQrType::QrStatic) => None,
        (_, RaiffeisenQrType::QrVariable) => {
            return invalid("QRVariable is not emulated");
        }
        (Some(amount), RaiffeisenQrType::QrDynamic | RaiffeisenQrType::QrStatic) => {
            match amount.kopecks() {
                Some(k) if k > 0 => Some(k),
                _ => return invalid("Передана некорректная сумма платежа"),
            }
        }
    };
    if kopecks.is_some() && req.currency.as_deref() != Some("RUB") {
        return invalid("Не передан обязательный параметр");
    }
    let now = Utc::now();
    let expires_at = match req.qr_expiration_date.as_deref() {
        None => None,
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(at) if at > now => Some(at),
            _ => {
                return bad(
                    "ERROR.QR_EXPIRATION_DATE_NOT_VALID",
                    "Неверная дата истечения QR-кода".into(),
                );
            }
        },
    };
    let seq = bank.next_seq();
    let mut qr_id = qr_id_for(&format!("{order}/{seq}"));
    let mut payload = match req.qr_type {
        RaiffeisenQrType::QrStatic => nspk_static_payload(&qr_id, kopecks),
        _ => nspk_payload(&qr_id, kopecks.unwrap_or(0)),
    };
    {
        let mut books = lock(&bank.books);
        let before = books.orders.get(&order).and_then(|id| books.qrs.get(id));
        if let Some(live) = before.filter(|q| {
            q.status(now) == RaiffeisenQrStatus::New
                && q.state == QrState::New
                && q.kopecks == kopecks
        }) {
            // Registering is idempotent by order: the order's live QR answers again.
            qr_id = live.qr_id.clone();
            payload = live.payload.clone();
        } else if before.is_some_and(|q| q.state == QrState::Paid) {
            return bad(
                "ERROR.ORDER_NUMBER_ALREADY_REGISTERED",
                format!(
                    "QR-код с номером заказа {order}, партнера {} и успешными платежами уже зарегистрирован",
                    bank.merchant_id
                ),
            );
        }
        if req.qr_type == RaiffeisenQrType::QrStatic {
            books.static_qrs.insert(qr_id.clone());
        }
        books.orders.insert(order.clone(), qr_id.clone());
        books.qrs.entry(qr_id.clone()).or_insert_with(|| Qr {
            qr_id: qr_id.clone(),
            order,
            kopecks,
            state: QrState::New,
            expires_at,
            created_at: now,
            transaction_id: None,
            transaction_date: None,
            refunded: 0,
            payload: payload.clone(),
        });
    }
    Json(RaiffeisenRegisterQrResponse {
        code: (!v2).then(|| "SUCCESS".to_owned()),
        qr_url: Some(format!(
            "https://emulator.invalid/api/sbp/v1/qr/{qr_id}/image"
        )),
        qr_status: v2.then_some(RaiffeisenQrStatus::New),
        qr_id,
        payload,
    })
    .into_response()
}

async fn register_v1(State(bank): State<Shared>, body: Bytes) -> Response {
    register(&bank, &body, false).await
}

async fn register_v2(State(bank): State<Shared>, body: Bytes) -> Response {
    register(&bank, &body, true).await
}

async fn get_qr(State(bank): State<Shared>, Path(qr_id): Path<String>) -> Response {
    let books = lock(&bank.books);
    let Some(qr) = books.qrs.get(&qr_id) else {
        return not_found_qr();
    };
    Json(RaiffeisenQrInfo {
        qr_id: qr.qr_id.clone(),
        qr_status: qr.status(Utc::now()),
        qr_expiration_date: qr
            .expires_at
            .map(|e| e.to_rfc3339_opts(SecondsFormat::Secs, false)),
        payload: Some(qr.payload.clone()),
        qr_url: None,
    })
    .into_response()
}

async fn delete_qr(State(bank): State<Shared>, Path(qr_id): Path<String>) -> Response {
    let mut books = lock(&bank.books);
    let Some(qr) = books.qrs.get_mut(&qr_id) else {
        return not_found_qr();
    };
    let status = qr.status(Utc::now());
    if status != RaiffeisenQrStatus::New || qr.state != QrState::New {
        return bank_error(
            StatusCode::BAD_REQUEST,
            "ERROR.WRONG_QR_STATUS",
            format!("Нельзя сменить статус QR-кода с {status:?} на CANCELLED"),
        );
    }
    qr.state = QrState::Cancelled;
    StatusCode::OK.into_response()
}

async fn payment_info(State(bank): State<Shared>, Path(qr_id): Path<String>) -> Response {
    let books = lock(&bank.books);
    let Some(qr) = books.qrs.get(&qr_id) else {
        return not_found_qr();
    };
    let mut payment_status = match qr.state {
        QrState::New | QrState::Cancelled => RaiffeisenPaymentStatus::NoInfo,
        QrState::Paid => RaiffeisenPaymentStatus::Success,
        QrState::Declined => RaiffeisenPaymentStatus::Declined,
    };
    // A static QR: its latest payment.
    let mut qr = qr.clone();
    if let Some(paid) = static_qr::latest_payment(&books, &qr_id) {
        payment_status = RaiffeisenPaymentStatus::Success;
        qr.kopecks = Some(paid.kopecks);
        qr.transaction_id = Some(paid.transaction_id);
        qr.transaction_date = Some(paid.transaction_date);
    }
    Json(RaiffeisenPaymentInfo {
        code: Some("SUCCESS".into()),
        amount: qr.kopecks.map(RaiffeisenAmount::from_kopecks),
        order: Some(qr.order.clone()),
        payment_status,
        qr_id: Some(qr.qr_id.clone()),
        sbp_merchant_id: Some(bank.merchant_id.clone()),
        transaction_date: qr.transaction_date.clone(),
        transaction_id: qr.transaction_id,
        create_date: Some(qr.created_at.to_rfc3339_opts(SecondsFormat::Micros, false)),
        currency: Some("RUB".into()),
        merchant_id: Some(1),
        qr_expiration_date: qr
            .expires_at
            .map(|e| e.to_rfc3339_opts(SecondsFormat::Secs, false)),
        additional_info: None,
        payment_purpose: None,
    })
    .into_response()
}

async fn refund(State(bank): State<Shared>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<RaiffeisenRefundRequest>(&body) else {
        return invalid("Не передан обязательный параметр");
    };
    if !valid_order(&req.refund_id) {
        return invalid("Не передан обязательный параметр");
    }
    let mut books = lock(&bank.books);
    if let Some(known) = books.refunds.get(&req.refund_id) {
        return Json(RaiffeisenRefundResponse {
            code: Some("SUCCESS".into()),
            amount: Some(RaiffeisenAmount::from_kopecks(known.kopecks)),
            refund_status: known.status,
        })
        .into_response();
    }
    let Some(kopecks) = req.amount.kopecks().filter(|k| *k >= 1) else {
        return invalid("Сумма возврата не может быть меньше 1 копейки");
    };
    if let Some(done) = req
        .transaction_id
        .filter(|t| static_qr::takes_refund(&books, *t))
        .map(|t| {
            if bank.refund_declined_by_fault() {
                return Ok(RaiffeisenRefundStatus::Declined);
            }
            static_qr::refund(&mut books, t, kopecks).map(|()| RaiffeisenRefundStatus::InProgress)
        })
    {
        return match done {
            Ok(status) => refund_taken(&mut books, req, kopecks, status),
            Err((status, code, message)) => bank_error(status, code, &message),
        };
    }
    let qr_id = match req.transaction_id {
        Some(t) => books
            .qrs
            .values()
            .find(|q| q.transaction_id == Some(t))
            .map(|q| q.qr_id.clone()),
        None => books.orders.get(&req.order).cloned(),
    };
    let Some(qr) = qr_id.and_then(|id| books.qrs.get_mut(&id)) else {
        return not_found_qr();
    };
    if qr.state != QrState::Paid {
        return invalid("Платёж по QR-коду не найден");
    }
    let status = match take_refund(&bank, &mut qr.refunded, qr.kopecks.unwrap_or(0), kopecks) {
        Ok(status) => status,
        Err(refused) => return *refused,
    };
    refund_taken(&mut books, req, kopecks, status)
}

/// Takes a refund of `kopecks` from a payment of `paid` with `refunded` already given back:
/// refused beyond what is left, declined by the `decline_refunds` fault, else in progress.
pub(super) fn take_refund(
    bank: &Bank,
    refunded: &mut i64,
    paid: i64,
    kopecks: i64,
) -> Result<RaiffeisenRefundStatus, Box<Response>> {
    if *refunded + kopecks > paid {
        return Err(Box::new(bank_error(
            StatusCode::BAD_REQUEST,
            "ERROR.REFUND_INSUFFICIENT_FUNDS",
            "Сумма возврата больше суммы остатка по платежу",
        )));
    }
    Ok(if bank.refund_declined_by_fault() {
        RaiffeisenRefundStatus::Declined
    } else {
        *refunded += kopecks;
        RaiffeisenRefundStatus::InProgress
    })
}

/// Books a refund the bank took (in progress or declined) and answers it.
fn refund_taken(
    books: &mut Books,
    req: RaiffeisenRefundRequest,
    kopecks: i64,
    status: RaiffeisenRefundStatus,
) -> Response {
    books
        .refunds
        .insert(req.refund_id, Refund { kopecks, status });
    Json(RaiffeisenRefundResponse {
        code: Some("SUCCESS".into()),
        amount: Some(req.amount),
        refund_status: status,
    })
    .into_response()
}

/// The refund `refund_id` as whoever asks finds it (the emulated bank finishes a refund by the
/// time anyone asks about it), else the bank's "no such refund".
pub(super) fn refund_as_asked(books: &mut Books, refund_id: &str) -> Result<Refund, Box<Response>> {
    let Some(refund) = books.refunds.get_mut(refund_id) else {
        return Err(Box::new(bank_error(
            StatusCode::NOT_FOUND,
            "ERROR.REFUND_NOT_FOUND",
            format!("Возврат с refundId {refund_id} не найден"),
        )));
    };
    if refund.status == RaiffeisenRefundStatus::InProgress {
        refund.status = RaiffeisenRefundStatus::Completed;
    }
    Ok(refund.clone())
}

async fn refund_status(State(bank): State<Shared>, Path(refund_id): Path<String>) -> Response {
    let refund = match refund_as_asked(&mut lock(&bank.books), &refund_id) {
        Ok(refund) => refund,
        Err(not_found) => return *not_found,
    };
    Json(RaiffeisenRefundResponse {
        code: Some("SUCCESS".into()),
        amount: Some(RaiffeisenAmount::from_kopecks(refund.kopecks)),
        refund_status: refund.status,
    })
    .into_response()
}

async fn callback_settings(State(bank): State<Shared>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<RaiffeisenCallbackSettings>(&body) else {
        return invalid("Не передан обязательный параметр");
    };
    if !(req.callback_url.starts_with("http://") || req.callback_url.starts_with("https://")) {
        return invalid("Некорректный callbackUrl");
    }
    bank.set_callback_url(Some(req.callback_url.clone()));
    Json(req).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MockPay {
    qr_id: String,
    #[serde(default)]
    amount: Option<RaiffeisenAmount>,
    /// Emulator extension: pay even an annulled or expired QR (a late payment).
    #[serde(default)]
    force: bool,
}

async fn mock_pay(State(bank): State<Shared>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<MockPay>(&body) else {
        return invalid("Не передан обязательный параметр");
    };
    let kopecks = req.amount.as_ref().and_then(RaiffeisenAmount::kopecks);
    match bank.pay(&req.qr_id, kopecks, req.force) {
        Ok(()) => Json(serde_json::json!({"code": "SUCCESS"})).into_response(),
        Err((status, code, message)) => bank_error(status, code, message),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MockDecline {
    qr_id: String,
}

async fn mock_decline(State(bank): State<Shared>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<MockDecline>(&body) else {
        return invalid("Не передан обязательный параметр");
    };
    match bank.decline(&req.qr_id) {
        Ok(()) => Json(serde_json::json!({"code": "SUCCESS"})).into_response(),
        Err((status, code, message)) => bank_error(status, code, message),
    }
}

async fn get_faults(State(bank): State<Shared>) -> Json<Faults> {
    Json(bank.faults())
}

async fn set_faults(State(bank): State<Shared>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            bank.set_faults(faults.clone());
            Json(faults).into_response()
        }
        Err(e) => invalid(&format!("faults: {e}")),
    }
}

/// The bank's answer to a call without the merchant's secret key.
async fn require_key(State(bank): State<Shared>, req: Request, next: Next) -> Response {
    if bank.authorized(req.headers()) {
        next.run(req).await
    } else {
        not_authorised()
    }
}

/// Latency, 5xx, hang and malformed answers for the bank calls (not the mock and control calls).
async fn inject_faults(State(bank): State<Shared>, req: Request, next: Next) -> Response {
    enum Fault {
        None,
        Fail,
        Hang(Duration),
        Malformed,
        Cut,
    }
    let (latency, fault, skew) = {
        let mut f = lock(&bank.faults);
        let fault = if f.hang > 0 {
            f.hang -= 1;
            Fault::Hang(Duration::from_millis(if f.hang_ms == 0 {
                600_000
            } else {
                f.hang_ms
            }))
        } else if f.fail_5xx > 0 {
            f.fail_5xx -= 1;
            Fault::Fail
        } else if f.malformed > 0 {
            f.malformed -= 1;
            Fault::Malformed
        } else if f.cut > 0 {
            f.cut -= 1;
            Fault::Cut
        } else {
            Fault::None
        };
        (Duration::from_millis(f.latency_ms), fault, f.clock_skew_s)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None if skew != 0 => {
            let mut res = next.run(req).await;
            let clock = Utc::now() + chrono::TimeDelta::seconds(skew);
            let date = clock.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            if let Ok(v) = axum::http::HeaderValue::from_str(&date) {
                res.headers_mut().insert(axum::http::header::DATE, v);
            }
            res
        }
        Fault::None => next.run(req).await,
        Fault::Fail => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "<html>Internal Server Error</html>",
        )
            .into_response(),
        Fault::Hang(d) => {
            tokio::time::sleep(d).await;
            (StatusCode::GATEWAY_TIMEOUT, "").into_response()
        }
        Fault::Malformed => {
            // Carried out, but the answer is cut off mid-JSON.
            let _ = next.run(req).await;
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                "{\"qrId\": \"AD",
            )
                .into_response()
        }
        Fault::Cut => {
            // Carried out, then the connection drops in the middle of the answer.
            let _ = next.run(req).await;
            let broken = futures::stream::iter([
                Ok(Bytes::from_static(b"{\"qrId\": ")),
                Err(std::io::Error::other("connection cut (fault)")),
            ]);
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                axum::body::Body::from_stream(broken),
            )
                .into_response()
        }
    }
}

pub fn router(bank: Shared) -> Router {
    // Every bank call but QR registration (which names the merchant in its body) carries the
    // secret key as a Bearer token.
    let keyed = Router::new()
        .route("/api/sbp/v2/qrs/{qr_id}", get(get_qr).delete(delete_qr))
        .route("/api/sbp/v1/qr/{qr_id}/payment-info", get(payment_info))
        .route("/api/sbp/v1/refund", post(refund))
        .route("/api/sbp/v1/refund/{refund_id}", get(refund_status))
        .route("/api/settings/v1/callback", post(callback_settings))
        .route("/api/sbp/v1/qr-drafts/{qr_id}", post(cash_link::bind_draft))
        .route("/api/payment/v1/orders", post(cash_link::create_order))
        .route(
            "/api/payment/v1/orders/{id}",
            get(cash_link::get_order).delete(cash_link::delete_order),
        )
        .route(
            "/api/payments/v1/orders/{order_id}/refunds/{refund_id}",
            post(cash_link::refund_order).get(cash_link::order_refund_status),
        )
        .route_layer(middleware::from_fn_with_state(bank.clone(), require_key));
    let bank_api = Router::new()
        .route("/api/sbp/v1/qr/register", post(register_v1))
        .route("/api/sbp/v2/qrs", post(register_v2))
        .merge(keyed)
        .layer(middleware::from_fn_with_state(bank.clone(), inject_faults));
    Router::new()
        .merge(bank_api)
        .route("/api/nspc-mock/v01/rfuture/payment/init", post(mock_pay))
        .route("/api/emulator/decline", post(mock_decline))
        .route("/api/emulator/faults", get(get_faults).post(set_faults))
        .route("/api/emulator/qr-drafts", post(cash_link::print_draft))
        .with_state(bank)
}
