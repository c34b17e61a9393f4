/** The bank's registry of SBP operations for today (Moscow) with one paid order, as UTF-8 CSV. */
export function registry(merchant: string, order: string, rubles: string, fee: string): Buffer {
  const msk = new Date(Date.now() + 3 * 3600 * 1000);
  const dd = String(msk.getUTCDate()).padStart(2, '0');
  const mm = String(msk.getUTCMonth() + 1).padStart(2, '0');
  const yyyy = msk.getUTCFullYear();
  return Buffer.from(
    `Instant Payments C2B Transactions report for ${dd}/${mm}/${yyyy} / Отчет по СБП C2B транзакциям за ${dd}/${mm}/${yyyy};;;;;;;;;;;\r\n` +
      ';;;;;;;;;;;\r\n' +
      'Мерчант;Дата операции МСК;Тип;id заказа;id возврата;Комментарий;Способ оплаты;Данные оплаты;id клиента;Сумма;Комиссия;Дополнительные поля\r\n' +
      `${merchant};${dd}.${mm}.${yyyy} 10:58;Payment;${order};;;Instant Payment QR;AD1;0079******12;${rubles};${fee};\r\n` +
      `ИТОГО;;;;;;;;;${rubles};${fee};\r\n`,
  );
}
