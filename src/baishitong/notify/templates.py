"""Default message texts (Chinese); admins edit them, the edits are stored as new versions."""

DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    "ticket_registered": ("受理通知", "【顺德12345】您的诉求已受理，工单编号{number}。可凭编号和手机号在 {base_url}/track 查询办理进度。"),
    "ticket_dispatched_requester": ("转办通知", "【顺德12345】您的诉求（{number}）已转交{unit}办理，请耐心等待答复。"),
    "ticket_dispatched_unit": ("新工单", "【顺德12345】贵单位有新工单{number}：{title}，请于{sign_due}前签收，{reply_due}前答复。"),
    "ticket_replied": ("答复通知", "【顺德12345】{unit}已答复您的诉求（{number}）。请对办理结果进行评价：{base_url}/track?number={number}"),
    "ticket_callback": ("回访感谢", "【顺德12345】感谢您对工单{number}的评价，我们将持续改进服务。"),
    "ticket_urged": ("催办通知", "【顺德12345】工单{number}（{title}）已被催办，请尽快办理。{note}"),
    "ticket_supervised": ("督办通知", "【顺德12345】工单{number}（{title}）已列入督办，请于{reply_due}前办结答复。{note}"),
    "ticket_return_rejected": ("退单未通过", "【顺德12345】工单{number}（{title}）的退单申请未获同意，原因：{reason}。请继续办理，{reply_when}。"),
    "ticket_extension_approved": ("延期已同意", "【顺德12345】工单{number}（{title}）的延期申请已同意，请于{reply_due}前答复。"),
    "ticket_redone": ("重办通知", "【顺德12345】工单{number}（{title}）经回访需重新办理，原因：{reason}。请于{reply_due}前重新答复。"),
    "ticket_extension_rejected": ("延期未通过", "【顺德12345】工单{number}（{title}）的延期申请未获同意，原因：{reason}。请按原时限办理，{reply_when}。"),
    "deadline_warning": ("即将超时", "【顺德12345】工单{number}将于{due}到期（{stage}），请抓紧办理。"),
    "deadline_overdue_unit": ("已超时", "【顺德12345】工单{number}{stage}已超时（应于{due}前完成），系统已自动催办。"),
    "deadline_overdue_supervisor": ("超时升级", "【督办提醒】{unit}的工单{number}{stage}已超时（应于{due}前完成），请督办。"),
    "kb_review_due": ("知识到期提醒", "【知识库】文章《{title}》将于{due}到期或需复核，请及时更新。"),
    "appointment_booked": ("预约成功", "【顺德政务】您已预约{point}{time}办理{item}，预约号{number}。"),
    "appointment_reminder": ("预约提醒", "【顺德政务】提醒：您预约了明天{time}在{point}办理{item}，预约号{number}。如需取消请提前操作。"),
    "policy_alert_confirm": ("政策提醒确认", "【顺德政务】您申请订阅惠企政策提醒，请在24小时内打开 {base_url}/enterprise/alerts/{token} 确认。如非本人操作，请忽略本短信。"),
    "policy_alert": ("新政策提醒", "【顺德政务】有一项新的惠企政策适合贵企业：{title}（{unit}），{benefit}。详情：{base_url}/enterprise/policies/{policy_id}　退订：{base_url}/enterprise/alerts/{token}"),
    "phone_code": ("短信验证码", "【顺德12345】验证码 {code}，5分钟内有效，用于查看您反映的诉求。请勿告诉他人。"),
}
