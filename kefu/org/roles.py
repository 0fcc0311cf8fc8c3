"""What each role may do: one matrix, in one place, readable by a person.

A user holds roles through memberships of teams; a permission is granted when
any active membership's role is listed for it. Where a permission applies
depends also on the data scope (``kefu.org.scoping``) and, for actions on a
work order, on which team holds it; those checks live in the services.

``docs/roles.md`` is generated from this table by ``manage.py roles_matrix``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .models import Role

A, S, AM = Role.AGENT, Role.SUPERVISOR, Role.ACCOUNT_MANAGER
KA, KC, KP = Role.KB_AUTHOR, Role.KB_CONFIRMER, Role.KB_PUBLISHER
AN, AD = Role.ANALYST, Role.ADMIN

ALL_ROLES = frozenset(Role)

# permission code -> (description, roles that hold it)
MATRIX: dict[str, tuple[object, frozenset[Role]]] = {
    # Work orders
    "ticket.view": (_("查看工单"), frozenset({A, S, AM, AN, AD, KA})),
    "ticket.create": (_("登记工单"), frozenset({A, S, AM})),
    "ticket.work": (_("处理工单：受理、退回、转派、回复客户、办结"), frozenset({A, S, AM})),
    "ticket.supervise": (_("班长操作：改派、查看违规转派、超时清单"), frozenset({S})),
    "customer.view": (_("查看客户"), frozenset({A, S, AM, AN, AD})),
    "customer.edit": (_("维护客户资料"), frozenset({S, AM, AD})),
    # Service levels
    "sla.view": (_("查看时限与及时率"), frozenset({A, S, AM, AN, AD})),
    "sla.configure": (_("配置服务日历与时限策略"), frozenset({AD})),
    # Knowledge base
    "kb.read": (_("查阅知识库"), ALL_ROLES),
    "kb.author": (_("编写、提交知识"), frozenset({KA})),
    "kb.check": (_("运营单位审核(格式、内容、适用性)"), frozenset({KA})),
    "kb.confirm": (_("政企事业部确认"), frozenset({KC})),
    "kb.publish": (_("集团客服部审核发布"), frozenset({KP})),
    "kb.load": (_("本省加载知识(回执)"), frozenset({A, S})),
    "kb.feedback": (_("反馈知识错误或缺失"), frozenset({A, S, AM})),
    "kb.import": (_("批量导入知识"), frozenset({KA, AD})),
    # Statistics
    "reports.view": (_("查看统计报表"), frozenset({S, AN, AD, KP})),
    "reports.mail": (_("配置报表邮件"), frozenset({AD})),
    # Platform incidents (第九条(二))
    "incident.view": (_("查看平台突发事件(本省受影响的)"), frozenset({A, S, AM, AN, AD, KA, KC, KP})),
    "incident.declare": (_("宣告与更新平台突发事件(运营单位、热线班长、集团客服部)"), frozenset({S, KA, KP})),
    "incident.relay": (_("下发事件通报(集团客服部)"), frozenset({KP})),
    "incident.ack": (_("确认收到事件通报(本团队回执)"), frozenset({A, S})),
    "incident.link": (_("将工单关联到事件"), frozenset({A, S, AM})),
    "incident.review": (_("查看事件复盘报告"), frozenset({S, AN, AD, KA, KP})),
    # Service norms and quality inspection
    "norms.view": (_("查看服务用语词库"), ALL_ROLES),
    "norms.manage": (_("维护服务用语词库(集团客服部)"), frozenset({KP, AD})),
    "quality.view": (_("查看质检(坐席看本人的)"), frozenset({A, S, KP, AN, AD})),
    "quality.inspect": (_("质检评分、裁定申诉(本省；集团客服部与运营单位全国)"), frozenset({S, KP})),
    "quality.configure": (_("配置质检评分项分值与抽检数量"), frozenset({KP, AD})),
    # Hotline telephony (第七条(一) 20 秒接通率)
    "calls.view": (_("查看通话记录、来电弹屏与接通率"), frozenset({A, S, AN, AD})),
    "calls.import": (_("导入话单文件(全国范围)"), frozenset({S, AD})),
    # Online service (在线客服)
    "chat.work": (_("在线会话：接入、回复、转接、结束(本团队的会话)"), frozenset({A, S})),
    "chat.stats": (_("查看在线客服统计"), frozenset({S, AN, AD, KP})),
    # Administration
    "audit.view": (_("查看审计记录"), frozenset({S, AD})),
    "admin.site": (_("进入后台配置"), frozenset({AD})),
    "token.manage": (_("管理自己的 API 令牌"), frozenset({A, S, AM, AN, AD, KA, KC, KP})),
}


def roles_for(permission: str) -> frozenset[Role]:
    try:
        return MATRIX[permission][1]
    except KeyError:
        # An unknown permission is a programming error, never a silent "no".
        raise KeyError(f"unknown permission {permission!r}; add it to kefu.org.roles.MATRIX") from None
