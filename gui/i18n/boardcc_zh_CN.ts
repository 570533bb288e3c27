<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AgentsPanel</name>
    <message>
        <location filename="../panels.py" line="188" />
        <source>Agent</source>
        <translation>座席</translation>
    </message>
    <message>
        <location filename="../panels.py" line="189" />
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location filename="../panels.py" line="190" />
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../panels.py" line="191" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../panels.py" line="192" />
        <source>Calls</source>
        <translation>呼叫数</translation>
    </message>
    <message>
        <location filename="../panels.py" line="193" />
        <source>Talk time</source>
        <translation>通话时长</translation>
    </message>
</context><context>
    <name>AlarmBar</name>
    <message>
        <location filename="../panels.py" line="422" />
        <source>Sound</source>
        <translation>声音</translation>
    </message>
    <message>
        <location filename="../panels.py" line="424" />
        <source>Acknowledge</source>
        <translation>确认告警</translation>
    </message>
    <message>
        <location filename="../panels.py" line="440" />
        <source>Line disconnected: channel %1 (%2)</source>
        <translation>线路断开: 通道 %1（%2）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="442" />
        <source>Board alarm: %1</source>
        <translation>板卡告警: %1</translation>
    </message>
    <message>
        <location filename="../panels.py" line="444" />
        <source>Queue below its service level: %1</source>
        <translation>队列服务水平低于目标: %1</translation>
    </message>
    <message>
        <location filename="../panels.py" line="445" />
        <source>Channel %1 failed: %2</source>
        <translation>通道 %1 出错: %2</translation>
    </message>
    <message>
        <location filename="../panels.py" line="452" />
        <source>and %1 more</source>
        <translation>另有 %1 条</translation>
    </message>
</context><context>
    <name>DetailsPanel</name>
    <message>
        <location filename="../panels.py" line="84" />
        <source>Listen</source>
        <translation>监听</translation>
    </message>
    <message>
        <location filename="../panels.py" line="85" />
        <source>Stop listening</source>
        <translation>停止监听</translation>
    </message>
    <message>
        <location filename="../panels.py" line="86" />
        <source>Hang up</source>
        <translation>挂机</translation>
    </message>
    <message>
        <location filename="../panels.py" line="94" />
        <source>Click a channel to see its details.</source>
        <translation>点击一个通道查看详细信息。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="122" />
        <source>Channel</source>
        <translation>通道</translation>
    </message>
    <message>
        <location filename="../panels.py" line="123" />
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../panels.py" line="124" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../panels.py" line="125" />
        <source>Look</source>
        <translation>图例状态</translation>
    </message>
    <message>
        <location filename="../panels.py" line="126" />
        <source>Time in state</source>
        <translation>状态持续</translation>
    </message>
    <message>
        <location filename="../panels.py" line="127" />
        <source>Extension</source>
        <translation>分机</translation>
    </message>
    <message>
        <location filename="../panels.py" line="128" />
        <source>Caller</source>
        <translation>主叫</translation>
    </message>
    <message>
        <location filename="../panels.py" line="129" />
        <source>Called</source>
        <translation>被叫</translation>
    </message>
    <message>
        <location filename="../panels.py" line="132" />
        <source>IVR node</source>
        <translation>IVR 节点</translation>
    </message>
    <message>
        <location filename="../panels.py" line="135" />
        <source>Agent</source>
        <translation>座席</translation>
    </message>
    <message>
        <location filename="../panels.py" line="138" />
        <source>Call</source>
        <translation>呼叫</translation>
    </message>
    <message>
        <location filename="../panels.py" line="139" />
        <source>Route</source>
        <translation>路由</translation>
    </message>
    <message>
        <location filename="../panels.py" line="141" />
        <source>Caller name</source>
        <translation>主叫姓名</translation>
    </message>
    <message>
        <location filename="../panels.py" line="148" />
        <source>Recent events</source>
        <translation>最近事件</translation>
    </message>
</context><context>
    <name>LogPanel</name>
    <message>
        <location filename="../panels.py" line="360" />
        <source>all events</source>
        <translation>全部事件</translation>
    </message>
    <message>
        <location filename="../panels.py" line="364" />
        <source>channel</source>
        <translation>通道</translation>
    </message>
    <message>
        <location filename="../panels.py" line="367" />
        <source>contains text</source>
        <translation>包含文字</translation>
    </message>
    <message>
        <location filename="../panels.py" line="368" />
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../panels.py" line="369" />
        <source>Event log</source>
        <translation>事件日志</translation>
    </message>
</context><context>
    <name>LogTableModel</name>
    <message>
        <location filename="../panels.py" line="287" />
        <source>seq</source>
        <translation>序号</translation>
    </message>
    <message>
        <location filename="../panels.py" line="288" />
        <source>time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../panels.py" line="289" />
        <source>type</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../panels.py" line="290" />
        <source>channel</source>
        <translation>通道</translation>
    </message>
    <message>
        <location filename="../panels.py" line="291" />
        <source>event</source>
        <translation>事件</translation>
    </message>
</context><context>
    <name>MonitorWindow</name>
    <message>
        <location filename="../window.py" line="84" />
        <source>boardcc channel monitor</source>
        <translation>boardcc 通道监控</translation>
    </message>
    <message>
        <location filename="../window.py" line="103" />
        <source>Channel</source>
        <translation>通道</translation>
    </message>
    <message>
        <location filename="../window.py" line="104" />
        <source>Agents</source>
        <translation>座席</translation>
    </message>
    <message>
        <location filename="../window.py" line="105" />
        <source>Queues</source>
        <translation>队列</translation>
    </message>
    <message>
        <location filename="../window.py" line="106" />
        <source>Legend</source>
        <translation>图例</translation>
    </message>
    <message>
        <location filename="../window.py" line="237" />
        <source>connecting</source>
        <translation>正在连接</translation>
    </message>
    <message>
        <location filename="../window.py" line="239" />
        <source>Disconnected from the engine at %1 (%2): reconnecting</source>
        <translation>与引擎 %1 的连接已断开（%2），正在重新连接</translation>
    </message>
    <message>
        <location filename="../window.py" line="241" />
        <source>Connecting to the engine at %1</source>
        <translation>正在连接引擎 %1</translation>
    </message>
    <message>
        <location filename="../window.py" line="248" />
        <source>connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <location filename="../window.py" line="248" />
        <source>disconnected</source>
        <translation>已断开</translation>
    </message>
    <message>
        <location filename="../window.py" line="251" />
        <source>%1 | engine time %2 s | %3 channels | %4 calls | %5 events/s | errors %6</source>
        <translation>%1 | 引擎时间 %2 秒 | %3 个通道 | %4 个呼叫 | 每秒 %5 个事件 | 错误 %6</translation>
    </message>
    <message>
        <location filename="../window.py" line="278" />
        <source>%1: done</source>
        <translation>%1: 完成</translation>
    </message>
</context><context>
    <name>QueuesPanel</name>
    <message>
        <location filename="../panels.py" line="250" />
        <location filename="../panels.py" line="243" />
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <location filename="../panels.py" line="244" />
        <source>Waiting</source>
        <translation>等待数</translation>
    </message>
    <message>
        <location filename="../panels.py" line="245" />
        <source>Service level</source>
        <translation>服务水平</translation>
    </message>
    <message>
        <location filename="../panels.py" line="246" />
        <source>Longest wait</source>
        <translation>最长等待</translation>
    </message>
    <message>
        <location filename="../panels.py" line="247" />
        <source>Agents ready</source>
        <translation>空闲座席</translation>
    </message>
    <message>
        <location filename="../panels.py" line="250" />
        <source>Caller</source>
        <translation>主叫</translation>
    </message>
    <message>
        <location filename="../panels.py" line="250" />
        <source>Wait</source>
        <translation>等待</translation>
    </message>
    <message>
        <location filename="../panels.py" line="251" />
        <source>The engine reports no queues.</source>
        <translation>引擎没有报告队列。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="253" />
        <source>Waiting calls</source>
        <translation>排队呼叫</translation>
    </message>
</context><context>
    <name>grid</name>
    <message>
        <location filename="../grid.py" line="33" />
        <source>trunk</source>
        <translation>外线</translation>
    </message>
    <message>
        <location filename="../grid.py" line="34" />
        <source>station</source>
        <translation>内线</translation>
    </message>
    <message>
        <location filename="../grid.py" line="35" />
        <source>record</source>
        <translation>录音</translation>
    </message>
    <message>
        <location filename="../grid.py" line="36" />
        <source>empty</source>
        <translation>空</translation>
    </message>
</context><context>
    <name>legend</name>
    <message>
        <location filename="../legend.py" line="29" />
        <source>No flow loaded</source>
        <translation>通道尚未加载流程</translation>
    </message>
    <message>
        <location filename="../legend.py" line="30" />
        <source>Flow loaded, not enabled</source>
        <translation>通道已经加载流程，但尚未启用</translation>
    </message>
    <message>
        <location filename="../legend.py" line="31" />
        <source>On hook, idle</source>
        <translation>通道挂机空闲中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="32" />
        <source>Incoming call ringing</source>
        <translation>通道正接收到来电，振铃中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="33" />
        <source>Off hook, dialling</source>
        <translation>通道正摘机后拨号中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="34" />
        <source>Ring-back (waiting for answer)</source>
        <translation>通道回铃中（等待对方摘机）</translation>
    </message>
    <message>
        <location filename="../legend.py" line="35" />
        <source>Talking</source>
        <translation>通道通话中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="36" />
        <source>On hold</source>
        <translation>通道被保持（HOLD）中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="37" />
        <source>Waiting for hang-up</source>
        <translation>等待通道挂机</translation>
    </message>
    <message>
        <location filename="../legend.py" line="38" />
        <source>Sending or receiving fax</source>
        <translation>通道正在收发传真</translation>
    </message>
    <message>
        <location filename="../legend.py" line="39" />
        <source>Line disconnected</source>
        <translation>通道电话线已经断开</translation>
    </message>
    <message>
        <location filename="../legend.py" line="41" />
        <source>Agent logged in by phone, idle</source>
        <translation>通道已经有座席员工通过座席电话机登录，并且当前空闲中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="45" />
        <source>Agent logged in by PC, idle</source>
        <translation>通道已经有座席员工通过座席电脑登录，并且当前空闲中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="46" />
        <source>Agent paused (not ready)</source>
        <translation>座席已经通过座席电脑登录，现在正暂停中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="47" />
        <source>Station ringing</source>
        <translation>内线通道正在振铃中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="49" />
        <source>Station off hook, dialling</source>
        <translation>内线通道正摘机后拨号中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="53" />
        <source>Station ring-back</source>
        <translation>内线通道回铃中（等待对方摘机）</translation>
    </message>
    <message>
        <location filename="../legend.py" line="54" />
        <source>Station talking</source>
        <translation>内线通道正在通话中</translation>
    </message>
    <message>
        <location filename="../legend.py" line="55" />
        <source>Station on hold</source>
        <translation>内线通道被保持（HOLD）中</translation>
    </message>
</context></TS>
